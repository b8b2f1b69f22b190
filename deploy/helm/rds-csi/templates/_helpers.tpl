{{/* Names and labels shared by every object. */}}

{{/* Whether compat=rds-csi-go: take over a release of the Go driver's chart in place. */}}
{{- define "rds-csi.goCompat" -}}
{{- if eq (toString .Values.compat) "rds-csi-go" }}true{{ end -}}
{{- end -}}

{{/*
In compat mode the name and full name follow the Go chart (rds-csi-driver), so that the
Deployment and DaemonSet keep their names and their immutable selectors on `helm upgrade`.
*/}}
{{- define "rds-csi.name" -}}
{{- if include "rds-csi.goCompat" . -}}
{{- default "rds-csi-driver" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
rds-csi
{{- end -}}
{{- end -}}

{{- define "rds-csi.fullname" -}}
{{- if include "rds-csi.goCompat" . -}}
{{- $name := include "rds-csi.name" . -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- else if contains "rds-csi" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-rds-csi" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The CSI driver name: fixed to the Go driver's in compat mode (PVs and VAs name it). */}}
{{- define "rds-csi.driverName" -}}
{{- if include "rds-csi.goCompat" . -}}
rds.csi.srvlab.io
{{- else -}}
{{- .Values.driverName -}}
{{- end -}}
{{- end -}}

{{/* The kubelet root: node.kubeletPath of the Go chart wins in compat mode. */}}
{{- define "rds-csi.kubeletDir" -}}
{{- if and (include "rds-csi.goCompat" .) .Values.node.kubeletPath -}}
{{- .Values.node.kubeletPath -}}
{{- else -}}
{{- .Values.kubeletDir -}}
{{- end -}}
{{- end -}}

{{/* Controller flags that say how to reach the RDS, from this chart's or the Go chart's keys. */}}
{{- define "rds-csi.rdsArgs" -}}
{{- if include "rds-csi.goCompat" . -}}
{{- with .Values.rds }}
- --compat=rds-csi-go
- --rds-address={{ .managementIP }}:{{ default 22 .sshPort }}
- --rds-user={{ default "metal-csi" .sshUser }}
- --rds-key-file=/etc/rds-csi/rds-private-key
- --rds-pool-path={{ default "/storage-pool/metal-csi" .basePath | trimPrefix "/" }}
{{- with .storageIP }}
- --rds-nvme-address={{ . }}
{{- end }}
- --rds-nvme-port={{ default 4420 .nvmePort }}
{{- if .insecureSkipVerify }}
- --rds-insecure-skip-host-key
{{- else }}
- --rds-host-key-file=/etc/rds-csi/rds-host-key
{{- end }}
{{- end }}
{{- else -}}
{{- with .Values.rds }}
- --rds-address={{ .address }}
- --rds-user={{ .user }}
- --rds-key-file=/etc/rds-csi/ssh/ssh-privatekey
- --rds-pool-path={{ .poolPath }}
{{- with .nvmeAddress }}
- --rds-nvme-address={{ . }}
{{- end }}
- --rds-nvme-port={{ .nvmePort }}
{{- if .insecureSkipHostKey }}
- --rds-insecure-skip-host-key
{{- end }}
{{- end }}
{{- end }}
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
{{- if include "rds-csi.goCompat" . -}}
{{- default "rds-csi-secret" .Values.rds.secretName -}}
{{- else -}}
{{- default (printf "%s-rds" (include "rds-csi.fullname" .)) .Values.rds.existingSecret -}}
{{- end -}}
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
{{ include "rds-csi.kubeletDir" . }}/plugins/{{ include "rds-csi.driverName" . }}
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
{{- if include "rds-csi.goCompat" . -}}
{{- if not .Values.rds.managementIP -}}
{{- fail "compat=rds-csi-go: rds.managementIP is required (pass the Go chart values after compat/rds-csi-go.yaml)" -}}
{{- end -}}
{{- range .Values.storageClasses -}}
{{- if not (hasKey . "enabled") -}}
{{- fail (printf "compat=rds-csi-go: storageClasses entry %s is not in the Go chart's shape (start from compat/rds-csi-go.yaml)" .name) -}}
{{- end -}}
{{- end -}}
{{- else -}}
{{- if not .Values.rds.address -}}
{{- fail "rds.address is required: the SSH address of the RDS (host or host:port)" -}}
{{- end -}}
{{- if and (not .Values.rds.existingSecret) (not .Values.rds.sshPrivateKey) -}}
{{- fail "set rds.existingSecret (recommended) or rds.sshPrivateKey: the controller logs in to the RDS with an SSH key" -}}
{{- end -}}
{{- if and (not .Values.rds.existingSecret) (not .Values.rds.hostKeyFingerprint) (not .Values.rds.insecureSkipHostKey) -}}
{{- fail "set rds.hostKeyFingerprint (SHA256:... from `ssh-keygen -lf`), or put it in rds.existingSecret under host-key-fingerprint" -}}
{{- end -}}
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
