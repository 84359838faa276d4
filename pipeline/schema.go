package pipeline

import (
	"bytes"
	_ "embed"
	"encoding/json"

	"github.com/dubline/dubline/kling"
)

// Schema is the manifest's JSON Schema (draft-07), for editors with
// yaml-language-server: put
//
//	# yaml-language-server: $schema=./manifest.schema.json
//
// at the top of a manifest. `dubline schema` prints it; examples/ holds a
// copy that a test keeps identical. The request parameters' part is made
// from kling.Params; schema.tmpl.json holds the rest.
var Schema = buildSchema()

//go:embed schema.tmpl.json
var schemaTemplate []byte

const paramsMarker = `"@params": null`

func buildSchema() []byte {
	props := paramProperties()
	out := bytes.ReplaceAll(schemaTemplate, []byte(paramsMarker), props[1:len(props)-1])
	var b bytes.Buffer
	if err := json.Indent(&b, compact(out), "", "  "); err != nil {
		panic("pipeline: schema template: " + err.Error())
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func compact(b []byte) []byte {
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		panic("pipeline: schema template: " + err.Error())
	}
	return c.Bytes()
}

// paramProperties is the JSON object of the params mapping's properties,
// in kling.Params order.
func paramProperties() []byte {
	root := &jsonObject{}
	for _, pk := range paramKeyList {
		if pk.group == nil {
			root.add(pk.name, paramSchema(&kling.Params[pk.first]))
			continue
		}
		members := &jsonObject{}
		for k, key := range pk.group.names {
			members.add(key, paramSchema(&kling.Params[pk.first+k]))
		}
		g := &jsonObject{}
		g.add("type", "object")
		g.add("additionalProperties", false)
		g.add("description", kling.GroupDocs[pk.name])
		g.add("properties", members)
		root.add(pk.name, g)
	}
	b, err := json.Marshal(root)
	if err != nil {
		panic(err)
	}
	return b
}

func paramSchema(p *kling.Param) *jsonObject {
	o := &jsonObject{}
	o.add("type", p.Kind.String())
	o.add("description", p.Doc)
	if len(p.Enum) > 0 {
		o.add("enum", p.Enum)
	}
	if p.Kind == kling.Int || p.Kind == kling.Float {
		if p.Min != 0 || p.Max != 0 {
			o.add("minimum", p.Min)
		}
		if p.Max != 0 {
			o.add("maximum", p.Max)
		}
		if p.Step > 0 {
			o.add("multipleOf", p.Step)
		}
	}
	if p.URL {
		o.add("format", "uri")
		o.add("pattern", "^https?://")
	}
	if !p.Omit {
		switch p.Kind {
		case kling.String:
			o.add("default", p.Default.Str())
		case kling.Bool:
			o.add("default", p.Default.Bool())
		default:
			o.add("default", p.Default.N)
		}
	}
	return o
}

// jsonObject marshals its members in the order added.
type jsonObject struct {
	keys []string
	vals []any
}

func (o *jsonObject) add(k string, v any) { o.keys, o.vals = append(o.keys, k), append(o.vals, v) }

func (o *jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
