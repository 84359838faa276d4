package pipeline

import (
	"encoding/json"
	"slices"
	"testing"
)

// The JSON Schema and the decoder must accept the same keys, so an editor
// never suggests a key the decoder refuses (or misses one it accepts).
func TestSchemaMatchesDecoderKeys(t *testing.T) {
	type obj struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Items      json.RawMessage            `json:"items"`
	}
	props := func(raw json.RawMessage) map[string]json.RawMessage {
		var o obj
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		return o.Properties
	}
	keys := func(m map[string]json.RawMessage) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	sorted := func(ks *keySet) []string {
		s := slices.Clone(ks.names)
		slices.Sort(s)
		return s
	}
	top := props(Schema)
	var jobs obj
	json.Unmarshal(top["jobs"], &jobs)
	for _, c := range []struct {
		name   string
		schema map[string]json.RawMessage
		keys   *keySet
	}{
		{"top level", top, topKeys},
		{"provider", props(top["provider"]), providerKeys},
		{"output", props(top["output"]), outputKeys},
		{"limits", props(top["limits"]), limitsKeys},
		{"defaults", props(top["defaults"]), paramKeys},
		{"defaults.safety", props(props(top["defaults"])["safety"]), groupKeys("safety")},
		{"jobs[]", props(jobs.Items), jobKeys},
	} {
		if got, want := keys(c.schema), sorted(c.keys); !slices.Equal(got, want) {
			t.Errorf("%s: schema has %v, decoder accepts %v", c.name, got, want)
		}
	}
}

func groupKeys(name string) *keySet {
	for _, pk := range paramKeyList {
		if pk.name == name {
			return pk.group
		}
	}
	return nil
}
