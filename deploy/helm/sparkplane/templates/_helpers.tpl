{{/* Names, labels and the checks the schema cannot say in words. */}}

{{- define "sparkplane.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sparkplane.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "sparkplane.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "sparkplane.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "sparkplane.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sparkplane.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sparkplane.labels" -}}
{{ include "sparkplane.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "sparkplane.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sparkplane.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sparkplane.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "sparkplane.postgres" -}}
{{- if eq .Values.database.type "postgres" }}true{{ end }}
{{- end }}

{{- define "sparkplane.claimName" -}}
{{- default (printf "%s-data" (include "sparkplane.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{- define "sparkplane.podTemplatesConfigMap" -}}
{{- default (printf "%s-pod-templates" (include "sparkplane.fullname" .)) .Values.podTemplates.existingConfigMap }}
{{- end }}

{{- define "sparkplane.hasPodTemplates" -}}
{{- if or .Values.podTemplates.existingConfigMap .Values.podTemplates.files }}true{{ end }}
{{- end }}

{{- define "sparkplane.hasCredentials" -}}
{{- if or .Values.credentials.existingSecret .Values.credentials.keys }}true{{ end }}
{{- end }}

{{/*
sparkplane.validate fails the render with a sentence for what values.schema.json refuses too
(for installs with --skip-schema-validation) and for what it cannot express.
*/}}
{{- define "sparkplane.validate" -}}
{{- if and (not (include "sparkplane.postgres" .)) (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "replicaCount %d needs database.type postgres: SQLite has one writer on a ReadWriteOnce volume, so it runs one replica" (int .Values.replicaCount)) }}
{{- end }}
{{- if include "sparkplane.postgres" . }}
{{- if not (or .Values.database.url .Values.database.existingSecret) }}
{{- fail "database.type postgres needs database.url (postgres://...) or database.existingSecret" }}
{{- end }}
{{- if not (include "sparkplane.hasCredentials" .) }}
{{- fail "database.type postgres needs credentials.keys or credentials.existingSecret: replicas share no volume to keep a generated access key on" }}
{{- end }}
{{- if not (or .Values.secretsKey.value .Values.secretsKey.existingSecret) }}
{{- fail "database.type postgres needs secretsKey.value or secretsKey.existingSecret: every replica must seal users' access keys with the same key" }}
{{- end }}
{{- end }}
{{- range $key := list "listen" "dataDir" "database" "credentialsFile" "podTemplateDirs" "metricsToken" }}
{{- if hasKey $.Values.config $key }}
{{- fail (printf "config.%s is set by the chart; use the chart's values instead (README: Deploying with Helm)" $key) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The server's config.yaml: the operator's config with the keys the chart owns. */}}
{{- define "sparkplane.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $_ := set $cfg "listen" (printf "0.0.0.0:%d" (int .Values.service.port)) }}
{{- $_ := set $cfg "dataDir" "/var/lib/sparkplane" }}
{{- if not (include "sparkplane.postgres" .) }}
{{- $_ := set $cfg "database" "/var/lib/sparkplane/sparkplane.db" }}
{{- end }}
{{- if include "sparkplane.hasCredentials" . }}
{{- $_ := set $cfg "credentialsFile" "/etc/sparkplane/credentials/credentials" }}
{{- end }}
{{- if include "sparkplane.hasPodTemplates" . }}
{{- $_ := set $cfg "podTemplateDirs" (list "/etc/sparkplane/pod-templates") }}
{{- end }}
{{- if .Values.metrics.token }}
{{- $_ := set $cfg "metricsToken" .Values.metrics.token }}
{{- end }}
{{- /* The server elects its leader on the Lease the Role names. */}}
{{- $le := deepCopy (default dict $cfg.leaderElection) }}
{{- $_ := set $le "name" .Values.leaderElection.leaseName }}
{{- $_ := set $cfg "leaderElection" $le }}
{{- /* The log-shipping containers run the server's own image, the same version. */}}
{{- $ship := deepCopy (default dict $cfg.logShipping) }}
{{- if not $ship.image }}
{{- $_ := set $ship "image" (include "sparkplane.image" .) }}
{{- $_ := set $cfg "logShipping" $ship }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}
