{{/* Names and labels shared by every object. */}}

{{- define "rds-csi.name" -}}
rds-csi
{{- end -}}

{{- define "rds-csi.fullname" -}}
{{- if contains "rds-csi" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-rds-csi" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rds-csi.labels" -}}
app.kubernetes.io/name: {{ include "rds-csi.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "rds-csi.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rds-csi.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "rds-csi.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "rds-csi.secretName" -}}
{{- default (printf "%s-rds" (include "rds-csi.fullname" .)) .Values.rds.existingSecret -}}
{{- end -}}

{{/* The unix socket every container of a pod shares; one path for the driver and sidecars. */}}
{{- define "rds-csi.socketDir" -}}
/csi
{{- end -}}

{{- define "rds-csi.socketPath" -}}
{{ include "rds-csi.socketDir" . }}/csi.sock
{{- end -}}

{{/* The node plugin's directory on the host, where kubelet finds the socket. */}}
{{- define "rds-csi.pluginDir" -}}
{{ .Values.kubeletDir }}/plugins/{{ .Values.driverName }}
{{- end -}}

{{/* Leader election flags of a controller sidecar. */}}
{{- define "rds-csi.leaderElectionArgs" -}}
{{- with .Values.controller.leaderElection }}
{{- if .enabled }}
- --leader-election=true
- --leader-election-namespace=$(NAMESPACE)
- --leader-election-lease-duration={{ .leaseDuration }}
- --leader-election-renew-deadline={{ .renewDeadline }}
- --leader-election-retry-period={{ .retryPeriod }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Environment every sidecar gets: the socket and the namespace for its Lease. */}}
{{- define "rds-csi.sidecarEnv" -}}
- name: ADDRESS
  value: {{ include "rds-csi.socketPath" . }}
- name: NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end -}}

{{/* Settings checks that a schema cannot express; each says how to fix it. */}}
{{- define "rds-csi.validate" -}}
{{- if not .Values.rds.address -}}
{{- fail "rds.address is required: the SSH address of the RDS (host or host:port)" -}}
{{- end -}}
{{- if and (not .Values.rds.existingSecret) (not .Values.rds.sshPrivateKey) -}}
{{- fail "set rds.existingSecret (recommended) or rds.sshPrivateKey: the controller logs in to the RDS with an SSH key" -}}
{{- end -}}
{{- if and (not .Values.rds.existingSecret) (not .Values.rds.hostKeyFingerprint) (not .Values.rds.insecureSkipHostKey) -}}
{{- fail "set rds.hostKeyFingerprint (SHA256:... from `ssh-keygen -lf`), or put it in rds.existingSecret under host-key-fingerprint" -}}
{{- end -}}
{{- if and (gt (int .Values.controller.replicas) 1) (not .Values.controller.leaderElection.enabled) -}}
{{- fail "controller.replicas > 1 needs controller.leaderElection.enabled: two active controllers would race on the same volumes" -}}
{{- end -}}
{{- end -}}

{{/* Pull policy, hardening, resources and the socket mount every sidecar shares. */}}
{{- define "rds-csi.sidecarCommon" -}}
imagePullPolicy: IfNotPresent
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- with .resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumeMounts:
  - name: socket-dir
    mountPath: {{ include "rds-csi.socketDir" .root }}
{{- end -}}
