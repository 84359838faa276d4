package runware

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/dubline/dubline/kling"
)

// ErrClosed is returned by calls made on (or pending in) a closed Client.
var ErrClosed = errors.New("runware: client closed")

// Client talks to the Runware REST API. It is safe for concurrent use;
// create it with New and release its goroutines with Close.
type Client struct {
	o      Options
	jitter jitterSource
	stats  counters

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	submits chan *submitReq
	poll    *poller
}

// Stats are request counters since New.
type Stats struct {
	Requests       int64 // HTTP attempts of every kind
	SubmitRequests int64 // videoInference POSTs (each carries up to MaxBatch tasks)
	PollRequests   int64 // getResponse POSTs (each carries up to MaxBatch tasks)
	OtherRequests  int64 // authentication, accountManagement and mediaStorage POSTs
	Retries        int64 // transport re-sends after a Transient failure
	TasksSubmitted int64 // Submit calls that reached a batch
	TaskPolls      int64 // getResponse task objects sent
	Conflicts      int64 // re-sends answered conflictTaskUUID (accepted earlier)
}

type counters struct {
	requests, submitRequests, pollRequests, otherRequests atomic.Int64
	retries, tasksSubmitted, taskPolls, conflicts         atomic.Int64
}

// New returns a Client and starts its batcher and poller goroutines.
func New(o Options) (*Client, error) {
	if o.APIKey == "" {
		return nil, errors.New("runware: an API key is required (set RUNWARE_API_KEY)")
	}
	o = o.withDefaults()
	c := &Client{o: o, submits: make(chan *submitReq)}
	c.jitter.r = o.Rand
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.poll = newPoller(c)
	c.wg.Add(2)
	go func() { defer c.wg.Done(); c.runBatcher() }()
	go func() { defer c.wg.Done(); c.poll.run() }()
	return c, nil
}

// Close stops the batcher and the poller and waits for them. Pending
// Submit and Wait calls return ErrClosed. Close is idempotent.
func (c *Client) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}

// Stats returns a snapshot of the request counters.
func (c *Client) Stats() Stats {
	s := &c.stats
	return Stats{
		Requests:       s.requests.Load(),
		SubmitRequests: s.submitRequests.Load(),
		PollRequests:   s.pollRequests.Load(),
		OtherRequests:  s.otherRequests.Load(),
		Retries:        s.retries.Load(),
		TasksSubmitted: s.tasksSubmitted.Load(),
		TaskPolls:      s.taskPolls.Load(),
		Conflicts:      s.conflicts.Load(),
	}
}

func (c *Client) countRequest(kind string) {
	c.stats.requests.Add(1)
	switch kind {
	case kindSubmit:
		c.stats.submitRequests.Add(1)
	case kindPoll:
		c.stats.pollRequests.Add(1)
	default:
		c.stats.otherRequests.Add(1)
	}
}

// Authenticate checks the API key with Runware's documented
// authentication task (sent alone; a reply without errors accepts the
// key), with transport retries. A rejected key comes back Fatal.
func (c *Client) Authenticate(ctx context.Context) error {
	body, err := json.Marshal([]authRequest{{TaskType: "authentication", APIKey: c.o.APIKey}})
	if err != nil {
		return err
	}
	if _, err := c.callOne(ctx, kindAuth, body); err != nil {
		return fmt.Errorf("runware authentication: %w", err)
	}
	return nil
}

// DryRunHeader asks Runware to validate a request and return its cost
// without executing or charging it (documented in Runware's own skills
// repository, runware-skills, not in the API reference).
const DryRunHeader = "X-Runware-Dry-Run"

// Quote asks Runware what t would cost, with DryRunHeader and includeCost,
// under a fresh taskUUID; it returns the cost in USD. A reply without a
// cost is a Permanent error. Beware: a server that ignored the header
// would run (and bill) the task, so callers quote only on request.
func (c *Client) Quote(ctx context.Context, t Task) (float64, error) {
	t.TaskUUID = uuid.NewString()
	t.Request.Set("includeCost", kling.Flag(true))
	obj, err := encodeTask(t)
	if err != nil {
		return 0, &Error{Class: Permanent, Message: "encoding task: " + err.Error()}
	}
	body := append(append([]byte{'['}, obj...), ']')
	data, err := c.callOne(ctx, kindQuote, body)
	if err != nil {
		return 0, fmt.Errorf("runware dry run: %w", err)
	}
	for _, it := range data {
		if (it.TaskUUID == t.TaskUUID || it.TaskUUID == "") && it.Cost != nil {
			return *it.Cost, nil
		}
	}
	return 0, fmt.Errorf("runware dry run: %w", &Error{Class: Permanent, TaskUUID: t.TaskUUID,
		Message: "the reply carried no cost (does the endpoint support " + DryRunHeader + "?)"})
}

// Account is what accountManagement/getDetails says about the account.
type Account struct {
	BalanceUSD float64
	HasBalance bool // the reply carried a balance Dubline could read
}

// AccountDetails reads the account's balance (accountManagement,
// operation getDetails). Runware's docs show balance as a number; newer
// pages as an object with amount: both are read.
func (c *Client) AccountDetails(ctx context.Context) (Account, error) {
	id := uuid.NewString()
	body, err := json.Marshal([]accountRequest{{TaskType: "accountManagement", TaskUUID: id, Operation: "getDetails"}})
	if err != nil {
		return Account{}, err
	}
	data, err := c.callOne(ctx, kindAcct, body)
	if err != nil {
		return Account{}, fmt.Errorf("runware accountManagement getDetails: %w", err)
	}
	for _, it := range data {
		if it.TaskUUID == id || it.TaskType == "accountManagement" {
			usd, ok := parseBalance(it.Balance)
			return Account{BalanceUSD: usd, HasBalance: ok}, nil
		}
	}
	return Account{}, nil
}

// parseBalance reads a balance given as a number, a numeric string, or an
// object {"amount": …}.
func parseBalance(raw json.RawMessage) (float64, bool) {
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		f, err := n.Float64()
		return f, err == nil
	}
	var obj struct {
		Amount json.Number `json:"amount"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Amount != "" {
		f, err := obj.Amount.Float64()
		return f, err == nil
	}
	return 0, false
}

// UploadMedia stores media (a URL, a data URI or bare base64) with a
// mediaStorage upload task and returns the reusable media UUID and URL.
func (c *Client) UploadMedia(ctx context.Context, media string) (mediaUUID, mediaURL string, err error) {
	id := uuid.NewString()
	body, err := json.Marshal([]mediaStorageRequest{{
		TaskType: "mediaStorage", TaskUUID: id, Operation: "upload", Media: media,
	}})
	if err != nil {
		return "", "", err
	}
	data, err := c.callOne(ctx, kindUpload, body)
	if err != nil {
		return "", "", fmt.Errorf("runware mediaStorage upload: %w", err)
	}
	for _, it := range data {
		if (it.TaskUUID == id || it.TaskUUID == "") && it.MediaUUID != "" {
			return it.MediaUUID, it.MediaURL, nil
		}
	}
	return "", "", fmt.Errorf("runware mediaStorage upload: %w",
		&Error{Class: Transient, TaskUUID: id, Message: "reply carried no mediaUUID"})
}
