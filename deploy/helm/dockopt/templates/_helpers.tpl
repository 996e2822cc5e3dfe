{{- define "dockopt.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dockopt.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dockopt.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dockopt.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dockopt.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "dockopt.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dockopt
{{- end }}

{{- define "dockopt.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dockopt.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is given. */}}
{{- define "dockopt.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (.image.tag | default .appVersion) }}
{{- end }}
{{- end }}

{{- define "dockopt.secretName" -}}
{{- .Values.credentials.existingSecret | default (include "dockopt.fullname" .) }}
{{- end }}

{{/* "true" when the queue is PostgreSQL, which many replicas can share. */}}
{{- define "dockopt.postgres" -}}
{{- $url := .Values.database.url | default "" }}
{{- if or .Values.database.existingSecret (hasPrefix "postgres://" $url) (hasPrefix "postgresql://" $url) }}true{{ end }}
{{- end }}

{{/* "true" when the SQLite data directory is a PersistentVolumeClaim. */}}
{{- define "dockopt.pvc" -}}
{{- if and (not (include "dockopt.postgres" .)) .Values.persistence.enabled }}true{{ end }}
{{- end }}

{{- define "dockopt.buildkitAddress" -}}
{{- if .Values.buildkit.sidecar.enabled }}
{{- printf "tcp://127.0.0.1:%d" (int .Values.buildkit.sidecar.port) }}
{{- else }}
{{- .Values.buildkit.address }}
{{- end }}
{{- end }}

{{/* Configurations that cannot work are refused at render time. */}}
{{- define "dockopt.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "dockopt.postgres" .)) }}
{{- fail (printf "replicaCount is %d, but without PostgreSQL (database.url = postgres://… or database.existingSecret) dockopt keeps its queue in SQLite on one volume, which only one replica can use. Configure PostgreSQL or set replicaCount to 1." (int .Values.replicaCount)) }}
{{- end }}
{{- $url := .Values.database.url | default "" }}
{{- if and $url (not (include "dockopt.postgres" .)) }}
{{- fail "database.url must be a postgres:// or postgresql:// URL; leave it empty for the embedded SQLite queue." }}
{{- end }}
{{- if not .Values.credentials.existingSecret }}
{{- if not (and .Values.credentials.appId .Values.credentials.privateKey .Values.credentials.webhookSecret) }}
{{- fail "dockopt needs its GitHub App credentials: set credentials.existingSecret, or credentials.appId, credentials.privateKey and credentials.webhookSecret (from the dockopt.env that `dockopt-app register` writes)." }}
{{- end }}
{{- end }}
{{- end }}
