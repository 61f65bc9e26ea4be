/// The archive's tables, as numbered migration steps (docs/ARCHIVE.md documents every column).
///
/// Steps are append-only: a released step is never edited, a change is a new step. Every table
/// carries `cluster_id` first, so several clusters can share one database and every index
/// serves one cluster's queries.
enum ArchiveSchema {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "archive tables", sql: tables),
        Migration(version: 2, name: "analytics indexes", sql: analyticsIndexes),
    ]

    /// `pg_advisory_xact_lock` key that serialises migrations of all nodes on one database
    /// ("LLMIMARC" in ASCII).
    static let migrationLockKey: Int64 = 0x4C4C_4D49_4D41_5243

    static let tables = """
        CREATE TABLE archive_watermark (
            cluster_id text PRIMARY KEY,
            last_index bigint NOT NULL CHECK (last_index >= 0),
            updated_at timestamptz NOT NULL
        );
        CREATE TABLE archive_events (
            cluster_id text NOT NULL,
            log_index bigint NOT NULL,
            position int NOT NULL,
            event_id text,
            incident_id text,
            outcome text NOT NULL,
            source text NOT NULL,
            source_version text NOT NULL,
            event_type text NOT NULL,
            category text NOT NULL,
            title text NOT NULL,
            description text NOT NULL,
            raw_severity text NOT NULL,
            severity text,
            action text NOT NULL,
            dedup_key text NOT NULL,
            environment text NOT NULL,
            occurred_at timestamptz NOT NULL,
            received_at timestamptz NOT NULL,
            resource jsonb NOT NULL,
            tags jsonb NOT NULL,
            labels jsonb NOT NULL,
            metrics jsonb NOT NULL,
            payload text NOT NULL,
            PRIMARY KEY (cluster_id, log_index, position)
        );
        CREATE TABLE archive_incidents (
            cluster_id text NOT NULL,
            incident_id text NOT NULL,
            title text NOT NULL,
            description text NOT NULL,
            severity text NOT NULL,
            status text NOT NULL,
            category text NOT NULL,
            source text NOT NULL,
            environment text NOT NULL,
            team text,
            assignee text,
            escalation_policy text,
            escalation_level int NOT NULL,
            occurrence_count bigint NOT NULL,
            first_seen timestamptz NOT NULL,
            last_seen timestamptz NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            acknowledged_at timestamptz,
            resolved_at timestamptz,
            closed_at timestamptz,
            ack_sla_breached boolean NOT NULL,
            resolve_sla_breached boolean NOT NULL,
            duplicate_of text,
            root_cause text,
            labels jsonb NOT NULL,
            tags jsonb NOT NULL,
            last_log_index bigint NOT NULL,
            PRIMARY KEY (cluster_id, incident_id)
        );
        CREATE TABLE archive_timeline (
            cluster_id text NOT NULL,
            incident_id text NOT NULL,
            seq bigint NOT NULL,
            at timestamptz NOT NULL,
            kind text NOT NULL,
            actor text NOT NULL,
            message text NOT NULL,
            details jsonb NOT NULL,
            PRIMARY KEY (cluster_id, incident_id, seq)
        );
        CREATE TABLE archive_deliveries (
            cluster_id text NOT NULL,
            log_index bigint NOT NULL,
            notification_id bigint NOT NULL,
            incident_id text NOT NULL,
            channel text NOT NULL,
            kind text NOT NULL,
            level int NOT NULL,
            result text NOT NULL,
            error text,
            at timestamptz NOT NULL,
            PRIMARY KEY (cluster_id, log_index, notification_id)
        );
        CREATE TABLE archive_config_changes (
            cluster_id text NOT NULL,
            log_index bigint NOT NULL,
            kind text NOT NULL,
            item_id text NOT NULL,
            action text NOT NULL,
            actor text NOT NULL,
            at timestamptz NOT NULL,
            body jsonb,
            PRIMARY KEY (cluster_id, log_index)
        );
        CREATE TABLE archive_gaps (
            cluster_id text NOT NULL,
            first_index bigint NOT NULL,
            last_index bigint NOT NULL CHECK (last_index >= first_index),
            recorded_at timestamptz NOT NULL,
            reason text NOT NULL,
            PRIMARY KEY (cluster_id, first_index)
        );
        """

    /// One index per access path of ArchiveAnalytics, and no more: during catch-up every index
    /// costs each inserted row a few microseconds (docs/ARCHIVE.md, "Queries and indexes").
    /// Filters on status, severity, team or source run inside the `by_created` range scan.
    /// The text index's expression must match `searchIncidents`'s predicate exactly. It covers
    /// resolved and closed incidents only (the history the archive search is for; open ones are
    /// searched live through `GET /api/v1/incidents?q=`), so the flood of new incidents a
    /// catching-up archiver writes costs the index nothing; a search of other statuses scans
    /// the time range instead. Its pending list is large (64 MiB) so closes are indexed in bulk.
    static let analyticsIndexes = """
        CREATE INDEX archive_incidents_by_created ON archive_incidents (cluster_id, created_at, incident_id);
        CREATE INDEX archive_incidents_text ON archive_incidents
            USING gin (to_tsvector('simple'::regconfig, title || ' ' || description))
            WITH (fastupdate = on, gin_pending_list_limit = 65536)
            WHERE status IN ('resolved', 'closed');
        CREATE INDEX archive_events_by_received ON archive_events (cluster_id, received_at);
        """
}
