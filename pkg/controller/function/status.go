// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package function

import (
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// Reasons of the Built condition (and of the matching Events).
const (
	// ReasonBuilding: a build Job runs for the current source.
	ReasonBuilding = "Building"
	// ReasonBuildSucceeded: the image of the current source exists (status.build.image).
	ReasonBuildSucceeded = "BuildSucceeded"
	// ReasonBuildFailed: the build Job of the current source failed; the message ends with its log.
	ReasonBuildFailed = "BuildFailed"
	// ReasonImageProvided: spec.image runs without a build.
	ReasonImageProvided = "ImageProvided"
	// ReasonBuildSkipped: spec.build.mode neverBuild or the skip-build annotation.
	ReasonBuildSkipped = "BuildSkipped"
	// ReasonInvalidBuild: pkg/build refuses the build section (the message names the fields).
	ReasonInvalidBuild = "InvalidBuildConfiguration"
	// ReasonBuildSourceRefused: the build-source policy refuses the function.
	ReasonBuildSourceRefused = "BuildSourceRefused"
	// ReasonBuildPolicyUnavailable: the configured policy ConfigMap is missing or malformed.
	ReasonBuildPolicyUnavailable = "BuildSourcePolicyUnavailable"
	// ReasonNoImage: there is neither a source to build nor an image to run.
	ReasonNoImage = "NoImage"
	// ReasonBuildStarted and ReasonBuildSuperseded are Event reasons: a Job was created, or the Job of
	// an older spec was deleted.
	ReasonBuildStarted    = "BuildStarted"
	ReasonBuildSuperseded = "BuildSuperseded"
)

// Reasons of the Deployed and Ready conditions (and of the matching Events). Failures that stop the
// whole function (ReasonProjectNotFound, ReasonResourceConflict, ReasonInvalidSpec, and the build
// reasons above) are set on Deployed and Ready as well.
const (
	// ReasonWaitingForBuild: nothing is deployed until the image exists.
	ReasonWaitingForBuild = "WaitingForBuild"
	// ReasonResourcesApplied: the processor's resources match the current generation.
	ReasonResourcesApplied = "ResourcesApplied"
	// ReasonResourceConflict: a child's name is taken by an object the controller may not manage.
	ReasonResourceConflict = "ResourceConflict"
	// ReasonInvalidSpec: a part of the spec the controller interprets is malformed (http ingresses).
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonProjectNotFound: the function's project does not exist.
	ReasonProjectNotFound = "ProjectNotFound"
	// ReasonSkipDeploy: the skip-deploy annotation (state imported).
	ReasonSkipDeploy = "SkipDeploy"
	// ReasonAvailable: every replica of the current template is available.
	ReasonAvailable = "Available"
	// ReasonRollingOut: the current template is rolling out.
	ReasonRollingOut = "RollingOut"
	// ReasonReadinessTimeout: the rollout made no progress within the readiness timeout.
	ReasonReadinessTimeout = "ReadinessTimeout"
	// ReasonUnavailable: a rolled-out function lost its availability.
	ReasonUnavailable = "Unavailable"
)

// Event reasons without a condition.
const (
	ReasonDeployed                 = "Deployed"
	ReasonReady                    = "Ready"
	ReasonUnhealthy                = "Unhealthy"
	ReasonProjectCreated           = "ProjectCreated"
	ReasonCredentialsSecretIgnored = "CredentialsSecretIgnored"
)

// maxMessageLength bounds status messages (metav1.Condition allows 32768 bytes).
const maxMessageLength = 32 * 1024

// event is an Event that a reconcile records when it ends.
type event struct {
	eventType, reason, action, note string
}

// run is one reconcile of one function: the object whose status it mutates and the Events it records.
type run struct {
	fn     *v1beta1.NuclioFunction
	events []event
}

func (s *run) condition(conditionType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&s.fn.Status.Conditions, metav1.Condition{
		Type:               conditionType,
		Status:             status,
		Reason:             reason,
		Message:            truncate(message),
		ObservedGeneration: s.fn.Generation,
	})
}

func (s *run) setState(state, message string) {
	s.fn.Status.State = state
	s.fn.Status.Message = truncate(message)
}

func (s *run) record(eventType, reason, action, note string) {
	s.events = append(s.events, event{eventType: eventType, reason: reason, action: action, note: eventNote(note)})
}

// fail puts the function in state error with message and marks Deployed and Ready false for reason;
// built, when set, is the Built condition's reason (false) too.
func (s *run) fail(reason, message string, built bool) {
	s.setState(v1beta1.FunctionStateError, message)
	if built {
		s.condition(v1beta1.ConditionBuilt, metav1.ConditionFalse, reason, message)
	}
	s.condition(v1beta1.ConditionDeployed, metav1.ConditionFalse, reason, message)
	s.condition(v1beta1.ConditionReady, metav1.ConditionFalse, reason, message)
}

// conditionReason returns the reason and message of a condition, or "" when it is absent.
func conditionReason(fn *v1beta1.NuclioFunction, conditionType string) (reason, message string) {
	if c := meta.FindStatusCondition(fn.Status.Conditions, conditionType); c != nil {
		return c.Reason, c.Message
	}
	return "", ""
}

// maxEventNote bounds Event notes: events.k8s.io/v1 refuses notes over 1 kB.
const maxEventNote = 1024

// eventNote fits s into an Event note: its first line (shortened) and as much of its end as fits, since
// a build log's last lines say why it failed.
func eventNote(s string) string {
	if len(s) <= maxEventNote {
		return s
	}
	head, _, _ := strings.Cut(s, "\n")
	if len(head) > 300 {
		head = strings.ToValidUTF8(head[:300], "")
	}
	head += " [...]\n"
	tail := s[len(s)-(maxEventNote-len(head)):]
	for len(tail) > 0 && !utf8.RuneStart(tail[0]) {
		tail = tail[1:]
	}
	return head + tail
}

// truncate keeps the last maxMessageLength bytes of s (the end of a build log matters most), on a rune
// boundary.
func truncate(s string) string {
	if len(s) <= maxMessageLength {
		return s
	}
	s = s[len(s)-maxMessageLength:]
	for len(s) > 0 && !utf8.RuneStart(s[0]) {
		s = s[1:]
	}
	return s
}
