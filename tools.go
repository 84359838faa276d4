//go:build tools

// This file pins the project's core dependencies before the code that uses
// them lands, so that every package builds against the same versions.
package tools

import (
	_ "github.com/abema/go-mp4"
	_ "github.com/aws/aws-sdk-go-v2/config"
	_ "github.com/aws/aws-sdk-go-v2/credentials"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/google/uuid"
	_ "github.com/remko/go-mkvparse"
	_ "golang.org/x/sync/errgroup"
	_ "gopkg.in/yaml.v3"
)
