package pipeline

import (
	"strconv"

	"github.com/dubline/dubline/kling"

	"gopkg.in/yaml.v3"
)

// maxMergeVisits bounds the work merge keys (<<) can cause across one
// manifest: merges of merges can otherwise grow exponentially.
const maxMergeVisits = 1 << 20

// slot is one gathered key and its value (aliases not yet followed).
type slot struct {
	key, val *yaml.Node
	merged   bool // came from a << merge, so it may be overridden
}

// maxSlots bounds the largest key set (a job's keys: a group of params
// takes one slot for several).
const maxSlots = jobOnly + kling.NParams

type slots [maxSlots]slot

// resolve follows an alias to the node it names. It never returns nil.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

// isNull reports whether n is YAML null (explicit or empty).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Tag == "!!merge"
}

// gather sorts the entries of mapping m into s by key, reporting unknown
// and duplicate keys. Merge keys apply as YAML says: keys written in m win
// over merged ones, and earlier merges win over later ones.
func (d *decoder) gather(m *yaml.Node, ks *keySet, path string, s *slots) {
	var merges []*yaml.Node
	c := m.Content
	for i := 0; i+1 < len(c); i += 2 {
		k, v := resolve(c[i]), c[i+1]
		if isMergeKey(k) {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.add(d.pos(c[i]), path, "mapping keys must be strings")
			continue
		}
		idx := ks.lookup(k.Value)
		if idx < 0 {
			d.add(d.pos(c[i]), path, unknownMsg(k.Value, ks, path == ""))
			continue
		}
		if first := s[idx].key; first != nil {
			d.add(d.pos(c[i]), join(path, k.Value), "duplicate key "+quote(k.Value)+" (first written at "+d.pos(first).lineCol()+")")
			continue
		}
		s[idx] = slot{key: c[i], val: v}
	}
	if len(merges) == 0 {
		return
	}
	var seen []*yaml.Node
	for _, v := range merges {
		d.mergeValue(v, ks, path, s, &seen)
	}
}

// mergeValue applies the value of one << key: a mapping or a list of them.
func (d *decoder) mergeValue(v *yaml.Node, ks *keySet, path string, s *slots, seen *[]*yaml.Node) {
	r := resolve(v)
	switch r.Kind {
	case yaml.MappingNode:
		d.mergeMapping(r, ks, path, s, seen)
	case yaml.SequenceNode:
		for _, e := range r.Content {
			if er := resolve(e); er.Kind == yaml.MappingNode {
				d.mergeMapping(er, ks, path, s, seen)
			} else {
				d.add(d.pos(e), path, "merge key (<<) list elements must be mappings")
			}
		}
	default:
		d.add(d.pos(v), path, "merge key (<<) value must be a mapping or a list of mappings")
	}
}

// mergeMapping adds the keys of m that s does not have yet. Each mapping is
// visited once per gather (its keys cannot add anything the second time),
// which also stops alias cycles.
func (d *decoder) mergeMapping(m *yaml.Node, ks *keySet, path string, s *slots, seen *[]*yaml.Node) {
	for _, n := range *seen {
		if n == m {
			return
		}
	}
	*seen = append(*seen, m)
	if d.st.mergeVisits++; d.st.mergeVisits > maxMergeVisits {
		if d.st.mergeVisits == maxMergeVisits+1 {
			d.add(d.pos(m), path, "too many merge keys (<<); the manifest is too deeply merged to decode")
		}
		return
	}
	var inner []*yaml.Node
	c := m.Content
	for i := 0; i+1 < len(c); i += 2 {
		k := resolve(c[i])
		if isMergeKey(k) {
			inner = append(inner, c[i+1])
			continue
		}
		if k.Kind != yaml.ScalarNode {
			continue // reported where the mapping itself is decoded, if it is
		}
		idx := ks.lookup(k.Value)
		if idx < 0 {
			d.add(d.pos(c[i]), path, unknownMsg(k.Value, ks, path == "")+" (merged with <<)")
			continue
		}
		if s[idx].key == nil {
			s[idx] = slot{key: c[i], val: c[i+1], merged: true}
		}
	}
	for _, v := range inner {
		d.mergeValue(v, ks, path, s, seen)
	}
}

// join builds "parent.key" (or "key" at the top level).
func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// lineCol is "line 4" (or "line 4, column 5") for "first written at" notes.
func (p Pos) lineCol() string {
	if p.Col == 0 {
		return "line " + strconv.Itoa(p.Line)
	}
	return "line " + strconv.Itoa(p.Line) + ", column " + strconv.Itoa(p.Col)
}
