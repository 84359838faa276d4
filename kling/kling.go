// Package kling holds the facts about the KlingAI Lip-Sync model on Runware
// (klingai:7@1) that more than one part of Dubline relies on: the request
// parameters and their allowed values, the input limits, and the price rule.
//
// Everything here comes from the model's page on Runware and Runware's API
// reference. Keeping it in one package means the
// planner, the executor and the emulator can never disagree, and a live
// invoice that contradicts the page changes one file.
package kling

import (
	"strings"

	"github.com/dubline/dubline/internal/mediatype"
)

// Model is the only model Dubline drives.
const Model = "klingai:7@1"

// TaskType is the Runware task type for the model.
const TaskType = "videoInference"

// Ext returns the file extension (without dot) for an output format.
func Ext(format string) string {
	switch format {
	case "WEBM":
		return "webm"
	case "MOV":
		return "mov"
	default:
		return "mp4"
	}
}

// ContentType returns the MIME type of an output format.
func ContentType(format string) string {
	if format == "" {
		format = Params[iOutputFormat].Default.Str()
	}
	return mediatype.For("." + strings.ToLower(format))
}
