package runware

import "github.com/dubline/dubline/kling"

// TaskRequest is the exact JSON task object Submit sends for a Task.
// Optional fields are omitted when the Task leaves them unset.
type TaskRequest struct {
	TaskType         string           `json:"taskType"`
	TaskUUID         string           `json:"taskUUID"`
	Model            string           `json:"model"`
	DeliveryMethod   string           `json:"deliveryMethod"`
	OutputType       string           `json:"outputType"`
	OutputFormat     string           `json:"outputFormat"`
	OutputQuality    int              `json:"outputQuality"`
	NumberResults    int              `json:"numberResults"`
	IncludeCost      bool             `json:"includeCost"`
	Inputs           Inputs           `json:"inputs"`
	ProviderSettings ProviderSettings `json:"providerSettings"`
	TTL              int              `json:"ttl,omitempty"`
	WebhookURL       string           `json:"webhookURL,omitempty"`
	UploadEndpoint   string           `json:"uploadEndpoint,omitempty"`
	Safety           *Safety          `json:"safety,omitempty"`
}

// Inputs is the task's inputs object.
type Inputs struct {
	Video string `json:"video"`
	Audio string `json:"audio"`
}

// ProviderSettings is the task's providerSettings object.
type ProviderSettings struct {
	KlingAI KlingAISettings `json:"klingai"`
}

// KlingAISettings is providerSettings.klingai.
type KlingAISettings struct {
	OriginalAudioVolume float64 `json:"originalAudioVolume"`
	SoundVolume         float64 `json:"soundVolume"`
}

// Safety is the task's safety object.
type Safety struct {
	CheckContent bool   `json:"checkContent"`
	Mode         string `json:"mode,omitempty"`
}

// BuildRequest returns the task object for t. Zero Model, OutputFormat,
// OutputQuality and NumberResults take the model's defaults (package
// kling); volumes are sent as given, since 0 is meaningful. Safety is sent
// only when CheckContent or SafetyMode is set.
func BuildRequest(t Task) TaskRequest {
	r := TaskRequest{
		TaskType:       kling.TaskType,
		TaskUUID:       t.TaskUUID,
		Model:          t.Model,
		DeliveryMethod: "async",
		OutputType:     "URL",
		OutputFormat:   t.OutputFormat,
		OutputQuality:  t.OutputQuality,
		NumberResults:  t.NumberResults,
		IncludeCost:    t.IncludeCost,
		Inputs:         Inputs{Video: t.Video, Audio: t.Audio},
		ProviderSettings: ProviderSettings{KlingAI: KlingAISettings{
			OriginalAudioVolume: t.OriginalAudioVolume,
			SoundVolume:         t.SoundVolume,
		}},
		TTL:            t.TTL,
		WebhookURL:     t.WebhookURL,
		UploadEndpoint: t.UploadEndpoint,
	}
	if r.Model == "" {
		r.Model = kling.Model
	}
	if r.OutputFormat == "" {
		r.OutputFormat = kling.DefaultOutputFormat
	}
	if r.OutputQuality == 0 {
		r.OutputQuality = kling.DefaultOutputQuality
	}
	if r.NumberResults == 0 {
		r.NumberResults = kling.DefaultNumberResults
	}
	if t.CheckContent || t.SafetyMode != "" {
		r.Safety = &Safety{CheckContent: t.CheckContent, Mode: t.SafetyMode}
	}
	return r
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

// pingRequest is the connectivity check task.
type pingRequest struct {
	TaskType string `json:"taskType"`
	Ping     bool   `json:"ping"`
}
