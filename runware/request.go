package runware

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/dubline/dubline/kling"
)

// encodeTask returns the task object Submit sends for t: the fixed fields,
// the inputs, then every request parameter at its wire path (kling.Params
// order, dots making nested objects), leaving out a parameter marked Omit
// while it is zero and an object that ends up empty.
func encodeTask(t Task) ([]byte, error) {
	root := &object{}
	root.set("taskType", kling.TaskType)
	root.set("taskUUID", t.TaskUUID)
	root.set("model", t.Request.Model)
	root.set("deliveryMethod", "async")
	root.set("outputType", "URL")
	in := root.child("inputs")
	in.set("video", t.Video)
	in.set("audio", t.Audio)
	for i := range kling.Params {
		p, v := &kling.Params[i], t.Request.V[i]
		if p.Omit && v.IsZero() {
			continue
		}
		o, path := root, strings.Split(p.Wire, ".")
		for _, k := range path[:len(path)-1] {
			o = o.child(k)
		}
		o.set(path[len(path)-1], wireValue(p.Kind, v))
	}
	var b bytes.Buffer
	err := root.write(&b)
	return b.Bytes(), err
}

func wireValue(k kling.Kind, v kling.Value) any {
	switch k {
	case kling.String:
		return v.Str()
	case kling.Int:
		return int64(v.N)
	case kling.Bool:
		return v.Bool()
	}
	return v.N
}

// object is a JSON object that keeps its keys in insertion order.
type object struct {
	keys []string
	vals []any // *object or a value for json.Marshal
}

func (o *object) set(k string, v any) { o.keys, o.vals = append(o.keys, k), append(o.vals, v) }

// child returns the object at key k, adding it if needed.
func (o *object) child(k string) *object {
	for i, key := range o.keys {
		if c, ok := o.vals[i].(*object); ok && key == k {
			return c
		}
	}
	c := &object{}
	o.set(k, c)
	return c
}

func (o *object) write(b *bytes.Buffer) error {
	b.WriteByte('{')
	n := 0
	for i, k := range o.keys {
		if c, ok := o.vals[i].(*object); ok && len(c.keys) == 0 {
			continue
		}
		if n++; n > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		if c, ok := o.vals[i].(*object); ok {
			if err := c.write(b); err != nil {
				return err
			}
			continue
		}
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return nil
}

// getResponseRequest is the poll task.
type getResponseRequest struct {
	TaskType string `json:"taskType"`
	TaskUUID string `json:"taskUUID"`
}

// mediaStorageRequest is the mediaStorage upload task.
type mediaStorageRequest struct {
	TaskType  string `json:"taskType"`
	TaskUUID  string `json:"taskUUID"`
	Operation string `json:"operation"`
	Media     string `json:"media"`
}

// authRequest is the authentication task (it carries the key: never logged).
type authRequest struct {
	TaskType string `json:"taskType"`
	APIKey   string `json:"apiKey"`
}

// accountRequest is the accountManagement task.
type accountRequest struct {
	TaskType  string `json:"taskType"`
	TaskUUID  string `json:"taskUUID"`
	Operation string `json:"operation"`
}
