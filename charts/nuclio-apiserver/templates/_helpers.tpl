{{/*
Names are fixed: the chart installs cluster-wide singletons (the APIService v1beta1.nuclio.io, the webhook
configuration, policies and ClusterRoles), and the components find each other by these names.
*/}}

{{/* Common labels of every object; the argument is a dict with "ctx" (the root context) and
"component" (apiserver, webhook, controller, ... or ""). */}}
{{- define "nuclio.labels" -}}
{{- $ctx := .ctx -}}
app.kubernetes.io/part-of: nuclio-apiserver
{{- if .component }}
{{ include "nuclio.selectorLabels" . }}
{{- end }}
app.kubernetes.io/version: {{ $ctx.Chart.AppVersion | quote }}
{{- if not $ctx.Values.plainManifests }}
app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $ctx.Chart.Name $ctx.Chart.Version | replace "+" "_" }}
{{- end }}
{{- end -}}

{{/* Selector labels of a component's pods; same argument as nuclio.labels. */}}
{{- define "nuclio.selectorLabels" -}}
app.kubernetes.io/name: {{ printf "nuclio-%s" .component }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end -}}

{{/* Image reference; the argument is a dict with "ctx" and "image" (a component's image values). */}}
{{- define "nuclio.image" -}}
{{- $g := .ctx.Values.image -}}
{{- $repo := printf "%s/%s" $g.registry .image.repository | trimPrefix "/" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (.image.tag | default $g.tag | default .ctx.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* Number of nuclio-apiserver replicas: 1 with embedded etcd, 2 with external etcd, unless set. */}}
{{- define "nuclio.apiserverReplicas" -}}
{{- if kindIs "invalid" .Values.apiserver.replicas -}}
{{- if eq .Values.etcd.mode "external" }}2{{ else }}1{{ end -}}
{{- else -}}
{{- int .Values.apiserver.replicas -}}
{{- end -}}
{{- end -}}

{{/* DNS names of a component's Service; the argument is a dict with "ctx" and "name". */}}
{{- define "nuclio.serviceDNSNames" -}}
{{- $ns := .ctx.Release.Namespace -}}
- {{ .name }}.{{ $ns }}.svc
- {{ .name }}.{{ $ns }}.svc.{{ .ctx.Values.clusterDomain }}
{{- end -}}

{{/*
Serving certificate of a component in certificates.mode=helm: a dict with caCert, cert and key (PEM),
generated once per render and memoised, or taken from the existing Secret <name>-tls on upgrades so that
the caBundle stays stable. Each component gets its own CA; its key is discarded after signing. The
argument is a dict with "ctx" and "name" (nuclio-apiserver or nuclio-webhook).
*/}}
{{- define "nuclio.helmTLS" -}}
{{- $ctx := .ctx -}}
{{- $memo := $ctx.Values.certificates.helm -}}
{{- $key := printf "__generated_%s" .name -}}
{{- if not (hasKey $memo $key) -}}
{{- $ns := $ctx.Release.Namespace -}}
{{- $secretName := printf "%s-tls" .name -}}
{{- $existing := lookup "v1" "Secret" $ns $secretName -}}
{{- $data := dict -}}
{{- if and $existing $existing.data -}}
{{- $data = $existing.data -}}
{{- end -}}
{{- if and (index $data "ca.crt") (index $data "tls.crt") (index $data "tls.key") -}}
{{- $_ := set $memo $key (dict "caCert" (index $data "ca.crt" | b64dec) "cert" (index $data "tls.crt" | b64dec) "key" (index $data "tls.key" | b64dec)) -}}
{{- else -}}
{{- $days := int $ctx.Values.certificates.helm.validityDays -}}
{{- $ca := genCA (printf "%s-ca" .name) $days -}}
{{- $dns := list (printf "%s.%s.svc" .name $ns) (printf "%s.%s.svc.%s" .name $ns $ctx.Values.clusterDomain) (printf "%s.%s" .name $ns) .name -}}
{{- $cert := genSignedCert (printf "%s.%s.svc" .name $ns) nil $dns $days $ca -}}
{{- $_ := set $memo $key (dict "caCert" $ca.Cert "cert" $cert.Cert "key" $cert.Key) -}}
{{- end -}}
{{- end -}}
{{- index $memo $key | toJson -}}
{{- end -}}

{{/* caBundle (base64 PEM) for a component in the helm and manual modes; same argument as nuclio.helmTLS. */}}
{{- define "nuclio.caBundle" -}}
{{- if eq .ctx.Values.certificates.mode "manual" -}}
{{- .ctx.Values.certificates.manual.caBundle -}}
{{- else -}}
{{- (include "nuclio.helmTLS" . | fromJson).caCert | b64enc -}}
{{- end -}}
{{- end -}}

{{/* Annotations that make cert-manager's CA injector fill a caBundle; same argument as nuclio.helmTLS. */}}
{{- define "nuclio.injectCAAnnotation" -}}
{{- if eq .ctx.Values.certificates.mode "certManager" -}}
cert-manager.io/inject-ca-from: {{ printf "%s/%s" .ctx.Release.Namespace .name }}
{{- end -}}
{{- end -}}

{{/* Pod-level security context shared by every component. */}}
{{- define "nuclio.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container security context shared by every container. */}}
{{- define "nuclio.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Scheduling fields of a pod; the argument is a dict with "ctx", "component" and "values" (the
component's values). Without an explicit affinity, replicas prefer different nodes. */}}
{{- define "nuclio.scheduling" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
affinity:
{{- if .values.affinity }}
  {{- toYaml .values.affinity | nindent 2 }}
{{- else }}
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "nuclio.selectorLabels" (dict "ctx" .ctx "component" .component) | nindent 14 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .ctx.Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Namespaces that get the build-pod egress NetworkPolicy. */}}
{{- define "nuclio.buildNamespaces" -}}
{{- $ns := .Values.networkPolicy.builds.namespaces -}}
{{- if and (not $ns) .Values.controller.enabled .Values.controller.namespace -}}
{{- $ns = list .Values.controller.namespace -}}
{{- end -}}
{{- toJson (uniq $ns) -}}
{{- end -}}

{{/* Checks across values that the schema cannot express; fails the render with a clear message. */}}
{{- define "nuclio.validate" -}}
{{- $v := .Values -}}
{{- $replicas := int (include "nuclio.apiserverReplicas" .) -}}
{{- if and (eq $v.etcd.mode "embedded") (ne $replicas 1) -}}
{{- fail (printf "etcd.mode=embedded runs one etcd member inside the single nuclio-apiserver pod: apiserver.replicas must be 1, not %d. For high availability set etcd.mode=external with etcd.external.servers and etcd.external.tls.secretName, and 2 or more replicas." $replicas) -}}
{{- end -}}
{{- if eq $v.etcd.mode "external" -}}
{{- if not $v.etcd.external.servers -}}
{{- fail "etcd.mode=external needs etcd.external.servers (https://host:2379 URLs of your etcd cluster)" -}}
{{- end -}}
{{- range $v.etcd.external.servers -}}
{{- if not (hasPrefix "https://" .) -}}
{{- fail (printf "etcd.external.servers: %q must be an https:// URL: nuclio-apiserver talks to an external etcd over TLS with client certificates only" .) -}}
{{- end -}}
{{- end -}}
{{- if not $v.etcd.external.tls.secretName -}}
{{- fail "etcd.mode=external needs etcd.external.tls.secretName: a Secret with the etcd CA bundle and a client certificate and key" -}}
{{- end -}}
{{- end -}}
{{- if and (eq $v.certificates.mode "manual") (not $v.certificates.manual.caBundle) -}}
{{- fail "certificates.mode=manual needs certificates.manual.caBundle: the base64-encoded PEM CA that signed the certificates in the Secrets nuclio-apiserver-tls and nuclio-webhook-tls" -}}
{{- end -}}
{{- if and $v.plainManifests (eq $v.certificates.mode "helm") -}}
{{- fail "plainManifests=true cannot use certificates.mode=helm (keys would be generated into the manifests): use certManager or manual" -}}
{{- end -}}
{{- if and $v.controller.enabled $v.controller.namespace (ne (len $v.networkPolicy.builds.namespaces) 0) (not (has $v.controller.namespace $v.networkPolicy.builds.namespaces)) -}}
{{- fail (printf "networkPolicy.builds.namespaces must include controller.namespace (%s): builds run there" $v.controller.namespace) -}}
{{- end -}}
{{- end -}}
