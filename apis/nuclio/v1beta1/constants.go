// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package v1beta1

// Well-known labels (nuclio/nuclio:pkg/common/consts.go).
const (
	// LabelProjectName links functions, gateways, events and Secrets to their project; defaulted to "default".
	LabelProjectName = "nuclio.io/project-name"
	// LabelFunctionName links function events, Secrets and every child resource to their function.
	LabelFunctionName = "nuclio.io/function-name"
	// LabelAPIGatewayName links a gateway's Secret to the gateway.
	LabelAPIGatewayName = "nuclio.io/apigateway-name"
	// LabelFunctionVersion is always "latest" on child resources.
	LabelFunctionVersion = "nuclio.io/function-version"
	// LabelClass is "function" on function child resources.
	LabelClass = "nuclio.io/class"
	// LabelApp is "functionres" on function child resources.
	LabelApp = "nuclio.io/app"
)

// DefaultProjectName is the project a function belongs to when it names none.
const DefaultProjectName = "default"

// Well-known function annotations (nuclio/nuclio:pkg/functionconfig/types.go).
const (
	// AnnotationSkipBuild "true" deploys spec.image without building.
	AnnotationSkipBuild = "skip-build"
	// AnnotationSkipDeploy "true" stores the function without creating resources (state imported).
	AnnotationSkipDeploy = "skip-deploy"
	// AnnotationPreviousState restores a state on import.
	AnnotationPreviousState = "nuclio.io/previous-state"
	// AnnotationForceUpdate set to a new random value re-triggers the controller.
	AnnotationForceUpdate = "nuclio.io/force-update"
)

// Function states (status.state, nuclio/nuclio:pkg/functionconfig/types.go FunctionState).
const (
	FunctionStateWaitingForBuild                  = "waitingForBuild"
	FunctionStateBuilding                         = "building"
	FunctionStateWaitingForResourceConfiguration  = "waitingForResourceConfiguration"
	FunctionStateWaitingForScaleResourcesFromZero = "waitingForScaleResourceFromZero"
	FunctionStateWaitingForScaleResourcesToZero   = "waitingForScaleResourceToZero"
	FunctionStateConfiguringResources             = "configuringResources"
	FunctionStateReady                            = "ready"
	FunctionStateError                            = "error"
	FunctionStateUnhealthy                        = "unhealthy"
	FunctionStateScaledToZero                     = "scaledToZero"
	FunctionStateImported                         = "imported"
)

// API gateway states (status.state, nuclio/nuclio:pkg/platform/types.go APIGatewayState).
const (
	APIGatewayStateNone                   = ""
	APIGatewayStateWaitingForProvisioning = "waitingForProvisioning"
	APIGatewayStateReady                  = "ready"
	APIGatewayStateError                  = "error"
)

// Condition types of status.conditions.
const (
	// ConditionBuilt is True once the function's image exists for the current spec.
	ConditionBuilt = "Built"
	// ConditionDeployed is True once the processor's resources match the current spec.
	ConditionDeployed = "Deployed"
	// ConditionReady is True when the function serves requests.
	ConditionReady = "Ready"
)

// Trigger kinds the server knows (nuclio/nuclio:pkg/processor/trigger/*/factory.go).
const (
	TriggerKindHTTP       = "http"
	TriggerKindCron       = "cron"
	TriggerKindKafka      = "kafka"
	TriggerKindKafkaClstr = "kafka-cluster"
	TriggerKindV3ioStream = "v3ioStream"
)

// DefaultHTTPTriggerName is the name of the http trigger Nuclio adds unless disableDefaultHTTPTrigger is set.
const DefaultHTTPTriggerName = "default-http"
