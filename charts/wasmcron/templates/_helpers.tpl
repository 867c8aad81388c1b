{{/*
Chart name, truncated to the 63 characters Kubernetes names allow.
*/}}
{{- define "wasmcron.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Full name: release name + chart name unless the release name already contains the chart name.
*/}}
{{- define "wasmcron.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Chart label value: name-version.
*/}}
{{- define "wasmcron.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels: stable for the life of a release (Deployment selectors are immutable).
*/}}
{{- define "wasmcron.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wasmcron.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Labels of every resource.
*/}}
{{- define "wasmcron.labels" -}}
helm.sh/chart: {{ include "wasmcron.chart" . }}
{{ include "wasmcron.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: wasmcron
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Metadata annotations of every resource, merged with resource-specific ones: an indented "annotations:" block
for metadata, or nothing.
Usage: include "wasmcron.annotations" (dict "context" $ "extra" .Values.service.annotations)
*/}}
{{- define "wasmcron.annotations" -}}
{{- $all := merge (deepCopy (default (dict) .extra)) (deepCopy (default (dict) .context.Values.commonAnnotations)) -}}
{{- with $all }}
  annotations:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end -}}

{{/*
Name of the ServiceAccount the pods run as.
*/}}
{{- define "wasmcron.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "wasmcron.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Image reference from a {repository, tag, digest} map; the digest wins over the tag.
Usage: include "wasmcron.imageRef" (dict "image" .Values.image "defaultTag" .Chart.AppVersion)
*/}}
{{- define "wasmcron.imageRef" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (toString (default .defaultTag .image.tag)) -}}
{{- end -}}
{{- end -}}

{{/*
Name of the chart-created Secret (database URL, session URL and/or API token).
*/}}
{{- define "wasmcron.secretName" -}}
{{- include "wasmcron.fullname" . -}}
{{- end -}}

{{/*
Whether the chart creates a Secret: "true" or "".
*/}}
{{- define "wasmcron.createSecret" -}}
{{- if or (not .Values.database.existingSecret) (not .Values.auth.existingSecret) (include "wasmcron.storeSessionUrl" .) -}}true{{- end -}}
{{- end -}}

{{/*
Secret name and key of the database URL.
*/}}
{{- define "wasmcron.databaseSecretName" -}}
{{- default (include "wasmcron.secretName" .) .Values.database.existingSecret -}}
{{- end -}}
{{- define "wasmcron.databaseSecretKey" -}}
{{- if .Values.database.existingSecret -}}{{ .Values.database.existingSecretKey }}{{- else -}}database-url{{- end -}}
{{- end -}}

{{/*
Whether a session URL is configured (a value or an existing Secret): "true" or "".
*/}}
{{- define "wasmcron.hasSessionUrl" -}}
{{- if or .Values.database.sessionUrlExistingSecret (trim .Values.database.sessionUrl) -}}true{{- end -}}
{{- end -}}

{{/*
Whether the chart-created Secret holds the session URL (given as a value, not in an existing Secret): "true" or "".
*/}}
{{- define "wasmcron.storeSessionUrl" -}}
{{- if and (not .Values.database.sessionUrlExistingSecret) (trim .Values.database.sessionUrl) -}}true{{- end -}}
{{- end -}}

{{/*
Secret name and key of the session URL.
*/}}
{{- define "wasmcron.sessionUrlSecretName" -}}
{{- default (include "wasmcron.secretName" .) .Values.database.sessionUrlExistingSecret -}}
{{- end -}}
{{- define "wasmcron.sessionUrlSecretKey" -}}
{{- if .Values.database.sessionUrlExistingSecret -}}{{ .Values.database.sessionUrlExistingSecretKey }}{{- else -}}database-session-url{{- end -}}
{{- end -}}

{{/*
Secret name and key of the API token.
*/}}
{{- define "wasmcron.apiTokenSecretName" -}}
{{- default (include "wasmcron.secretName" .) .Values.auth.existingSecret -}}
{{- end -}}
{{- define "wasmcron.apiTokenSecretKey" -}}
{{- if .Values.auth.existingSecret -}}{{ .Values.auth.existingSecretKey }}{{- else -}}api-token{{- end -}}
{{- end -}}

{{/*
The API token the chart stores: the given value, else the one already in the release's Secret (so upgrades keep
it), else a new random one.
*/}}
{{- define "wasmcron.apiToken" -}}
{{- if .Values.auth.apiToken -}}
{{- .Values.auth.apiToken -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "wasmcron.secretName" .) -}}
{{- if and $existing (hasKey (default (dict) $existing.data) "api-token") -}}
{{- index $existing.data "api-token" | b64dec -}}
{{- else -}}
{{- randAlphaNum 48 -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Lower-case scheme of database.url (postgres, postgresql, mysql, mariadb, sqlite), or "" when the URL comes from an
existing Secret the chart cannot see.
*/}}
{{- define "wasmcron.databaseScheme" -}}
{{- if not .Values.database.existingSecret -}}
{{- regexFind "^[a-z]+" (lower (trim .Values.database.url)) -}}
{{- end -}}
{{- end -}}

{{/*
"true" when the chart knows the database is SQLite (only knowable when the URL is a chart value).
*/}}
{{- define "wasmcron.isSqlite" -}}
{{- if and (not .Values.database.existingSecret) (hasPrefix "sqlite:" (lower (trim .Values.database.url))) -}}true{{- end -}}
{{- end -}}

{{/*
Seconds in a duration written as number+unit groups (ms, s, m, h), e.g. "30s", "1m30s"; rounded up.
*/}}
{{- define "wasmcron.durationSeconds" -}}
{{- $ms := 0 -}}
{{- range (regexFindAll "[0-9]+(ms|s|m|h)" (toString .) -1) -}}
{{- $n := regexFind "^[0-9]+" . | atoi -}}
{{- $unit := regexReplaceAll "^[0-9]+" . "" -}}
{{- if eq $unit "ms" -}}{{- $ms = add $ms $n -}}
{{- else if eq $unit "s" -}}{{- $ms = add $ms (mul $n 1000) -}}
{{- else if eq $unit "m" -}}{{- $ms = add $ms (mul $n 60000) -}}
{{- else if eq $unit "h" -}}{{- $ms = add $ms (mul $n 3600000) -}}
{{- end -}}
{{- end -}}
{{- div (add $ms 999) 1000 -}}
{{- end -}}

{{/*
Pod termination grace period: the value given, else the run grace period plus 15 s (time to stop accepting
work, hand jobs over and deregister).
*/}}
{{- define "wasmcron.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds -}}
{{- add (include "wasmcron.durationSeconds" .Values.server.gracePeriod | atoi) 15 -}}
{{- else -}}
{{- .Values.terminationGracePeriodSeconds | int -}}
{{- end -}}
{{- end -}}

{{/*
Pod anti-affinity on kubernetes.io/hostname: preferred (soft) or required (hard).
*/}}
{{- define "wasmcron.podAntiAffinity" -}}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (include "wasmcron.selectorLabels" . | fromYaml)) -}}
{{- if eq .Values.podAntiAffinity "hard" -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    {{- toYaml (list $term) | nindent 4 }}
{{- else if eq .Values.podAntiAffinity "soft" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: {{ .Values.podAntiAffinityWeight }}
      podAffinityTerm:
        {{- toYaml $term | nindent 8 }}
{{- end -}}
{{- end -}}

{{/*
Refuses values that would deploy a broken or unsafe cluster. Each message says why and what to do.
*/}}
{{- define "wasmcron.validateValues" -}}
{{- $replicas := int .Values.replicaCount -}}
{{- if and (gt $replicas 1) (include "wasmcron.isSqlite" .) -}}
{{- fail (printf "\n\nwasmcron: replicaCount=%d with a SQLite database (database.url=%q) is refused.\nSQLite is a file inside one pod: other replicas cannot share it, so each would keep its own\njobs and runs and every tick would run once per replica.\nEither set replicaCount=1 (single instance, keep the file on persistence.enabled=true), or point\ndatabase.url (or database.existingSecret) at PostgreSQL or MySQL/MariaDB: postgres://user:password@host:5432/wasmcron\nor mysql://user:password@host:3306/wasmcron" $replicas .Values.database.url) -}}
{{- end -}}
{{- if and (not .Values.database.existingSecret) (not (trim .Values.database.url)) -}}
{{- fail "\n\nwasmcron: no database configured. Set database.url (postgres://..., mysql://..., mariadb://... or, for one replica, sqlite:///var/lib/wasmcron/wasmcron.db) or database.existingSecret." -}}
{{- end -}}
{{- if include "wasmcron.isSqlite" . -}}
{{- $path := regexReplaceAll "\\?.*$" (regexReplaceAll "^sqlite:(//)?" (trim .Values.database.url) "") "" -}}
{{- if not (hasPrefix (printf "%s/" (trimSuffix "/" .Values.persistence.mountPath)) $path) -}}
{{- fail (printf "\n\nwasmcron: the SQLite file %q is outside the writable data directory %q (the root filesystem is read-only).\nUse database.url=sqlite://%s/wasmcron.db" $path .Values.persistence.mountPath (trimSuffix "/" .Values.persistence.mountPath)) -}}
{{- end -}}
{{- end -}}
{{- if and (include "wasmcron.hasSessionUrl" .) (ne .Values.database.poolMode "transaction") -}}
{{- fail (printf "\n\nwasmcron: database.sessionUrl (or database.sessionUrlExistingSecret) is set but database.poolMode=%s.\nA session URL is the direct connection beside a pooler in transaction mode; in session mode\nthe database URL already carries the session lock and notifications, and the session URL would be ignored.\nEither set database.poolMode=transaction (database.url goes through PgBouncer, Supavisor or RDS Proxy\nin transaction mode), or remove database.sessionUrl and database.sessionUrlExistingSecret." .Values.database.poolMode) -}}
{{- end -}}
{{- $scheme := include "wasmcron.databaseScheme" . -}}
{{- if and (eq .Values.database.poolMode "transaction") $scheme (not (has $scheme (list "postgres" "postgresql"))) -}}
{{- fail (printf "\n\nwasmcron: database.poolMode=transaction with a %s database (database.url=%s://...) is refused.\nTransaction pooling (PgBouncer, Supavisor, RDS Proxy) is supported for PostgreSQL only.\nSet database.poolMode=session, or point database.url at PostgreSQL behind a transaction pooler." $scheme $scheme) -}}
{{- end -}}
{{- if and (gt $replicas 1) .Values.persistence.enabled -}}
{{- fail "\n\nwasmcron: persistence.enabled=true holds a SQLite file for a single replica; with replicaCount > 1 use PostgreSQL or MySQL/MariaDB and persistence.enabled=false." -}}
{{- end -}}
{{- if and .Values.auth.apiToken (not .Values.auth.existingSecret) (lt (len .Values.auth.apiToken) 32) -}}
{{- fail (printf "\n\nwasmcron: auth.apiToken has %d characters; a replica refuses a bootstrap token shorter than 32.\nLeave it empty to have one generated, or make one with: openssl rand -hex 32" (len .Values.auth.apiToken)) -}}
{{- end -}}
{{- if and .Values.jobs .Values.jobsFile.existingConfigMap -}}
{{- fail (printf "\n\nwasmcron: jobs (%d inline) and jobsFile.existingConfigMap=%q are both set; the host reads one jobs file.\nKeep the jobs in values (remove jobsFile.existingConfigMap), or keep them in the ConfigMap (set jobs: [])." (len .Values.jobs) .Values.jobsFile.existingConfigMap) -}}
{{- end -}}
{{- $names := dict -}}
{{- range $i, $job := .Values.jobs -}}
{{- if hasKey $names $job.name -}}
{{- fail (printf "\n\nwasmcron: jobs[%d] and jobs[%d] are both named %q; job names must be unique (the host refuses the whole jobs file)." (get $names $job.name) $i $job.name) -}}
{{- end -}}
{{- $_ := set $names $job.name $i -}}
{{- end -}}
{{- $grace := include "wasmcron.durationSeconds" .Values.server.gracePeriod | atoi -}}
{{- $termination := include "wasmcron.terminationGracePeriodSeconds" . | atoi -}}
{{- if le $termination $grace -}}
{{- fail (printf "\n\nwasmcron: terminationGracePeriodSeconds=%d must be longer than server.gracePeriod=%s (%ds), or Kubernetes kills runs that are allowed to finish. Leave it empty for %d." $termination .Values.server.gracePeriod $grace (add $grace 15)) -}}
{{- end -}}
{{- end -}}

{{/*
The plugin references as the host reads WASMCRON_PLUGIN_REFS: NAME=REF, comma-separated, by name.
*/}}
{{- define "wasmcron.pluginRefs" -}}
{{- $refs := list -}}
{{- range $name := keys .Values.plugins.refs | sortAlpha -}}
{{- $refs = append $refs (printf "%s=%s" $name (get $.Values.plugins.refs $name)) -}}
{{- end -}}
{{- join "," $refs -}}
{{- end -}}

{{/*
Where the jobs file is mounted (a directory: a ConfigMap volume without subPath receives updates).
*/}}
{{- define "wasmcron.jobsDir" -}}/etc/wasmcron/jobs{{- end -}}

{{/*
Name of the ConfigMap holding the jobs file: the chart's (from jobs) or jobsFile.existingConfigMap; "" for none.
*/}}
{{- define "wasmcron.jobsConfigMapName" -}}
{{- if .Values.jobsFile.existingConfigMap -}}
{{- .Values.jobsFile.existingConfigMap -}}
{{- else if .Values.jobs -}}
{{- printf "%s-jobs" (include "wasmcron.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
Key (and file name) of the jobs file in its ConfigMap.
*/}}
{{- define "wasmcron.jobsConfigMapKey" -}}
{{- if .Values.jobsFile.existingConfigMap -}}{{ .Values.jobsFile.existingConfigMapKey }}{{- else -}}jobs.yaml{{- end -}}
{{- end -}}

{{/*
Where the secrets directory is mounted.
*/}}
{{- define "wasmcron.secretsDir" -}}/etc/wasmcron/secrets{{- end -}}

{{/*
The Secrets of the secrets directory as a JSON list (secrets.existingSecret is one name or a list of names).
Usage: include "wasmcron.secretsDirSecrets" . | fromJsonArray
*/}}
{{- define "wasmcron.secretsDirSecrets" -}}
{{- $given := .Values.secrets.existingSecret -}}
{{- if kindIs "string" $given -}}
{{- toJson (compact (list $given)) -}}
{{- else -}}
{{- toJson (default (list) $given) -}}
{{- end -}}
{{- end -}}
