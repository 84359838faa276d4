package storage

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sdkError builds an error shaped like the SDK's for an HTTP answer.
func sdkError(status int, code string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "msg"},
	}}
}

// Answers versitygw cannot be made to give (no IAM policies in the test
// server) are classified from SDK-shaped errors.
func TestPreflightClassify(t *testing.T) {
	s := newS3(nil)
	cases := []struct {
		err  error
		want string
	}{
		{sdkError(403, "AccessDenied"), "no permission to write s3://out/p/"},
		{sdkError(403, "InvalidAccessKeyId"), "credentials rejected"},
		{sdkError(400, "ExpiredToken"), "credentials rejected"},
		{sdkError(404, "NoSuchBucket"), `bucket "out" does not exist`},
		{sdkError(301, "PermanentRedirect"), "in another region than us-east-1"},
		{fmt.Errorf("op: get identity: %w", errors.New("failed to retrieve credentials")), "no AWS credentials found"},
		{sdkError(500, "InternalError"), "s3://out/p/"},
	}
	for _, c := range cases {
		got := s.classify(c.err, "out", "s3://out/p/")
		if !errors.Is(got, ErrPreflight) || !strings.Contains(got.Error(), c.want) {
			t.Errorf("classify(%v) = %v; want %q", c.err, got, c.want)
		}
	}
}
