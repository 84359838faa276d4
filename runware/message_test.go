package runware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Message holds only the server's own text (or, when there is none, a
// short description of what went wrong): never the class, the code or the
// HTTP status, which have fields of their own. Callers compose their own
// text from the fields; Error() keeps its one-line form.
func TestErrorMessageHoldsOnlyServerText(t *testing.T) {
	cases := []struct {
		name      string
		wait      bool // poll instead of submit
		write     func(id string, w http.ResponseWriter)
		message   string // exact, when not ""
		errorText string // exact Error(), when not ""
	}{
		{"per-task submit error", false, func(id string, w http.ResponseWriter) {
			writeJSON(w, 400, map[string]any{"errors": []any{map[string]any{"code": "invalidOutputFormat", "taskUUID": id,
				"message": "outputFormat must be MP4"}}})
		}, "outputFormat must be MP4", "permanent invalidOutputFormat (HTTP 400): outputFormat must be MP4"},
		{"generation error reported by getResponse", true, func(id string, w http.ResponseWriter) {
			writeJSON(w, 200, map[string]any{"errors": []any{map[string]any{"code": "downloadFailed", "taskUUID": id, "status": "error",
				"message": "Could not download inputs.video"}}})
		}, "Could not download inputs.video", "permanent downloadFailed (HTTP 200): Could not download inputs.video"},
		{"provider detail in responseContent", true, func(id string, w http.ResponseWriter) {
			writeJSON(w, 200, map[string]any{"errors": []any{map[string]any{"code": "providerError", "taskUUID": id, "status": "error",
				"message": "Provider error", "responseContent": map[string]any{"message": "face not found"}}}})
		}, "Provider error: face not found", "regenerate providerError (HTTP 200): Provider error: face not found"},
		{"non-JSON 404 to a submit", false, func(id string, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(404)
			fmt.Fprint(w, "<html>not here</html>")
		}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
				tc.write(tasks[0]["taskUUID"].(string), w)
			})
			var err error
			if tc.wait {
				_, err = c.Wait(context.Background(), "m-1", 1)
			} else {
				_, err = c.Submit(context.Background(), testTask("m-1"))
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v", err)
			}
			if tc.message != "" && e.Message != tc.message {
				t.Errorf("Message %q, want %q", e.Message, tc.message)
			}
			if tc.errorText != "" && e.Error() != tc.errorText {
				t.Errorf("Error() %q, want %q", e.Error(), tc.errorText)
			}
			lower := strings.ToLower(e.Message)
			for _, dup := range []string{e.Class.String(), strings.ToLower(e.Code), fmt.Sprintf("http %d", e.HTTPStatus)} {
				if dup != "" && strings.Contains(lower, dup) {
					t.Errorf("Message %q repeats %q", e.Message, dup)
				}
			}
			if e.Message == "" {
				t.Error("empty Message")
			}
			if n := strings.Count(e.Error(), fmt.Sprint(e.HTTPStatus)); n != 1 {
				t.Errorf("Error() %q names the status %d times", e.Error(), n)
			}
		})
	}
}
