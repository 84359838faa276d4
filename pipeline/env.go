package pipeline

import "strings"

// expand replaces ${VAR}, ${VAR:-default} and $$ in s. A '$' followed by
// anything else is kept as written, so "price$5" needs no escaping.
// Following the shell, ":-" uses the default when the variable is unset or
// empty; the default is literal text (no nested ${}). Each problem (unset
// variable, bad name, missing '}') is returned as a message; the result
// then keeps the unexpanded text for that reference.
func expand(s string, env func(string) (string, bool)) (string, []string) {
	i := strings.IndexByte(s, '$')
	if i < 0 {
		return s, nil // fast path: most values have no '$'
	}
	var b strings.Builder
	b.Grow(len(s))
	var probs []string
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$$"):
			b.WriteByte('$')
			s = s[2:]
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				probs = append(probs, "unterminated ${ (write $$ for a literal $)")
				b.WriteString(s)
				return b.String(), probs
			}
			val, prob := lookup(s[2:end], env)
			if prob != "" {
				probs = append(probs, prob)
				val = s[:end+1]
			}
			b.WriteString(val)
			s = s[end+1:]
		default:
			b.WriteByte('$')
			s = s[1:]
		}
		i = strings.IndexByte(s, '$')
	}
	b.WriteString(s)
	return b.String(), probs
}

// lookup resolves the inside of one ${...}: "NAME" or "NAME:-default".
func lookup(ref string, env func(string) (string, bool)) (string, string) {
	name, def, hasDef := strings.Cut(ref, ":-")
	if !validVarName(name) {
		return "", "invalid environment variable name " + quote(name) + " in ${...}"
	}
	v, ok := env(name)
	if hasDef && (!ok || v == "") {
		return def, ""
	}
	if !ok {
		return "", "environment variable " + name + " is not set"
	}
	return v, ""
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
