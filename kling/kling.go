// Package kling holds the facts about the KlingAI Lip-Sync model on Runware
// (klingai:7@1) that more than one part of Dubline relies on: the request
// parameters and their allowed values, the input limits, and the price rule.
//
// Everything here comes from ../shared/reference/klingai-lip-sync.md (the
// model's page) and runware-api.md §7. Keeping it in one package means the
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

// Output formats accepted by outputFormat.
var OutputFormats = []string{"MP4", "WEBM", "MOV"}

// Safety modes accepted by safety.mode.
var SafetyModes = []string{"none", "fast", "full"}

// Parameter ranges from the model page.
const (
	MinOutputQuality = 20
	MaxOutputQuality = 99
	MinNumberResults = 1
	MaxNumberResults = 4
	MinTTL           = 60
	MinVolume        = 0.0
	MaxVolume        = 2.0
	VolumeStep       = 0.01
)

// Seed defaults, used when neither the job nor the manifest's defaults set a
// parameter. IncludeCost defaults to true in Dubline (the page says false):
// the reported cost is how estimates are reconciled, so we always ask for it.
const (
	DefaultOutputFormat        = "MP4"
	DefaultOutputQuality       = 95
	DefaultNumberResults       = 1
	DefaultOriginalAudioVolume = 1.0
	DefaultSoundVolume         = 1.0
	DefaultIncludeCost         = true
	DefaultSafetyMode          = "none"
)

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
		format = DefaultOutputFormat
	}
	return mediatype.For("." + strings.ToLower(format))
}

// ValidVolume reports whether v is within 0..2 and a multiple of 0.01.
func ValidVolume(v float64) bool {
	if v < MinVolume || v > MaxVolume {
		return false
	}
	h := v * 100
	r := float64(int64(h + 0.5))
	d := h - r
	return d < 1e-6 && d > -1e-6
}
