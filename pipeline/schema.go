package pipeline

import _ "embed"

// Schema is the manifest's JSON Schema (draft-07), for editors with
// yaml-language-server: put
//
//	# yaml-language-server: $schema=./manifest.schema.json
//
// at the top of a manifest. `dubline schema` prints it; examples/ holds a
// copy that a test keeps identical.
//
//go:embed schema.json
var Schema []byte
