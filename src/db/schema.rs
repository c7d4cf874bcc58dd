//! Hand-written schema in the types both backends share (`diesel print-schema` differs per backend).
//! A test checks that both migrated databases have exactly these tables and columns.

diesel::table! {
    members (id) {
        id -> Text,
        name -> Text,
        description -> Text,
        website -> Nullable<Text>,
        contact_email -> Text,
        country -> Text,
        city -> Nullable<Text>,
        nace_codes -> Text,
        size -> Nullable<Text>,
        languages -> Text,
        preferred_language -> Text,
        digest -> Text,
        discoverable -> Bool,
        status -> Text,
        search_folded -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    member_sectors (member_id, sector) {
        member_id -> Text,
        sector -> Text,
    }
}

diesel::table! {
    member_scopes (member_id, scope) {
        member_id -> Text,
        scope -> Text,
    }
}

diesel::table! {
    member_terms (member_id, kind, position) {
        member_id -> Text,
        kind -> Text,
        position -> Integer,
        term -> Text,
        folded -> Text,
        strength -> Nullable<Integer>,
        concept -> Nullable<Text>,
        match_kind -> Text,
        similarity -> Nullable<Double>,
    }
}

diesel::table! {
    idempotency_keys (owner, key) {
        owner -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(member_sectors -> members (member_id));
diesel::joinable!(member_scopes -> members (member_id));
diesel::joinable!(member_terms -> members (member_id));

diesel::allow_tables_to_appear_in_same_query!(members, member_sectors, member_scopes, member_terms, idempotency_keys);

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        member_id -> Nullable<Text>,
        disabled -> Bool,
        must_change_password -> Bool,
        token_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    clients (client_id) {
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Text,
        disabled -> Bool,
        token_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    client_members (client_id, member_id) {
        client_id -> Text,
        member_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        target -> Nullable<Text>,
        ip -> Nullable<Text>,
        success -> Bool,
        details -> Text,
    }
}

diesel::joinable!(client_members -> clients (client_id));
diesel::allow_tables_to_appear_in_same_query!(clients, client_members, members, users);

diesel::table! {
    projects (id) {
        id -> Text,
        title -> Text,
        description -> Text,
        scope -> Text,
        programme -> Nullable<Text>,
        call_id -> Nullable<Text>,
        reference -> Nullable<Text>,
        deadline -> Nullable<Timestamp>,
        budget_min -> Nullable<BigInt>,
        budget_max -> Nullable<BigInt>,
        source_url -> Nullable<Text>,
        eligible_countries -> Text,
        min_partners -> Integer,
        max_partners -> Nullable<Integer>,
        min_countries -> Integer,
        lead_member_id -> Nullable<Text>,
        closed -> Bool,
        search_folded -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        left_out -> Nullable<Text>,
        let_in -> Bool,
        opens_at -> Nullable<Timestamp>,
        portal_seen_at -> Nullable<Timestamp>,
        portal_missed -> Integer,
        edited_fields -> Text,
        eligible_sizes -> Text,
    }
}

diesel::table! {
    project_sectors (project_id, sector) {
        project_id -> Text,
        sector -> Text,
    }
}

diesel::table! {
    project_terms (project_id, kind, position) {
        project_id -> Text,
        kind -> Text,
        position -> Integer,
        term -> Text,
        folded -> Text,
        strength -> Nullable<Integer>,
        concept -> Nullable<Text>,
        match_kind -> Text,
        similarity -> Nullable<Double>,
    }
}

diesel::table! {
    vocabulary_labels (id) {
        id -> Text,
        concept -> Text,
        lang -> Text,
        label -> Text,
        folded -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    vocabulary_merges (from_concept) {
        from_concept -> Text,
        into_concept -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    change_counter (id) {
        id -> Integer,
        seq -> BigInt,
    }
}

diesel::table! {
    changes (seq) {
        seq -> BigInt,
        entity -> Text,
        entity_id -> Text,
        at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(projects, project_sectors, project_terms, members);

diesel::table! {
    imports (id) {
        id -> Text,
        source -> Text,
        requested_by -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        outcome -> Text,
        summary -> Nullable<Text>,
        error -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    matching_runs (id) {
        id -> Text,
        status -> Text,
        requested_by -> Text,
        members_total -> Integer,
        members_done -> Integer,
        created -> Integer,
        kept -> Integer,
        held_back -> Integer,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    suggestions (id) {
        id -> Text,
        kind -> Text,
        member_id -> Text,
        target -> Text,
        project_id -> Nullable<Text>,
        partner_id -> Nullable<Text>,
        run_id -> Text,
        score -> Double,
        explanation -> Text,
        rationale -> Text,
        status -> Text,
        decision_reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        reaction -> Nullable<Text>,
        reaction_reason -> Nullable<Text>,
        reaction_comment -> Nullable<Text>,
        reacted_at -> Nullable<Timestamp>,
        digest_id -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    suggestion_events (id) {
        id -> Text,
        suggestion_id -> Text,
        field -> Text,
        from_value -> Nullable<Text>,
        to_value -> Nullable<Text>,
        actor -> Text,
        reason -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    suggestion_outcomes (id) {
        id -> Text,
        suggestion_id -> Text,
        outcome -> Text,
        occurred_on -> Date,
        call_ref -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    outcome_questions (suggestion_id) {
        suggestion_id -> Text,
        digest_id -> Text,
        asked_at -> Timestamp,
    }
}

diesel::table! {
    digests (id) {
        id -> Text,
        member_id -> Text,
        week -> Text,
        message_id -> Text,
        recipient -> Text,
        language -> Text,
        subject -> Text,
        html -> Text,
        text -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    introductions (id) {
        id -> Text,
        suggestion_id -> Text,
        member_id -> Text,
        counterpart_id -> Nullable<Text>,
        status -> Text,
        note -> Nullable<Text>,
        requested_by -> Text,
        requested_at -> Timestamp,
        consent_until -> Nullable<Timestamp>,
        answered_at -> Nullable<Timestamp>,
        done_by -> Nullable<Text>,
        done_at -> Nullable<Timestamp>,
        staff_note -> Nullable<Text>,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        kind -> Text,
        introduction_id -> Nullable<Text>,
        message_id -> Text,
        recipients -> Text,
        language -> Text,
        subject -> Text,
        html -> Text,
        text -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    job_runs (job, period) {
        job -> Text,
        period -> Text,
        owner -> Text,
        lease_until -> Timestamp,
        state -> Text,
        started_at -> Timestamp,
        heartbeat_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        client_id -> Text,
        url -> Text,
        events -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_until -> Nullable<Timestamp>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        member_id -> Text,
        other_member_id -> Nullable<Text>,
        event -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        last_status -> Nullable<Integer>,
        sent_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    console_sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        token_version -> BigInt,
        csrf -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_deliveries, webhook_endpoints);
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, clients);
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, client_members);

diesel::allow_tables_to_appear_in_same_query!(suggestions, member_sectors);
diesel::allow_tables_to_appear_in_same_query!(suggestions, projects);
diesel::allow_tables_to_appear_in_same_query!(suggestions, members);
diesel::allow_tables_to_appear_in_same_query!(suggestions, suggestion_outcomes);
diesel::allow_tables_to_appear_in_same_query!(suggestions, outcome_questions);
diesel::allow_tables_to_appear_in_same_query!(suggestion_outcomes, outcome_questions);
diesel::allow_tables_to_appear_in_same_query!(suggestions, digests);
diesel::allow_tables_to_appear_in_same_query!(suggestions, introductions);
diesel::allow_tables_to_appear_in_same_query!(introductions, messages);

/// Every table and its columns; the schema test compares both migrated backends against it.
pub const TABLES: &[(&str, &[&str])] = &[
    (
        "members",
        &[
            "id",
            "name",
            "description",
            "website",
            "contact_email",
            "country",
            "city",
            "nace_codes",
            "size",
            "languages",
            "preferred_language",
            "digest",
            "discoverable",
            "status",
            "search_folded",
            "version",
            "created_at",
            "updated_at",
        ],
    ),
    ("member_sectors", &["member_id", "sector"]),
    ("member_scopes", &["member_id", "scope"]),
    (
        "member_terms",
        &["member_id", "kind", "position", "term", "folded", "strength", "concept", "match_kind", "similarity"],
    ),
    ("idempotency_keys", &["owner", "key", "request_hash", "status", "body", "location", "etag", "created_at"]),
    (
        "users",
        &[
            "id",
            "email",
            "password_hash",
            "role",
            "member_id",
            "disabled",
            "must_change_password",
            "token_version",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "clients",
        &["client_id", "name", "secret_hash", "scopes", "disabled", "token_version", "created_at", "updated_at"],
    ),
    ("client_members", &["client_id", "member_id", "created_at"]),
    ("audit_log", &["id", "at", "actor", "action", "target", "ip", "success", "details"]),
    (
        "projects",
        &[
            "id",
            "title",
            "description",
            "scope",
            "programme",
            "call_id",
            "reference",
            "deadline",
            "budget_min",
            "budget_max",
            "source_url",
            "eligible_countries",
            "min_partners",
            "max_partners",
            "min_countries",
            "lead_member_id",
            "closed",
            "search_folded",
            "version",
            "created_at",
            "updated_at",
            "left_out",
            "let_in",
            "opens_at",
            "portal_seen_at",
            "portal_missed",
            "edited_fields",
            "eligible_sizes",
        ],
    ),
    ("project_sectors", &["project_id", "sector"]),
    (
        "project_terms",
        &["project_id", "kind", "position", "term", "folded", "strength", "concept", "match_kind", "similarity"],
    ),
    ("vocabulary_labels", &["id", "concept", "lang", "label", "folded", "created_by", "created_at"]),
    ("vocabulary_merges", &["from_concept", "into_concept", "created_by", "created_at"]),
    ("change_counter", &["id", "seq"]),
    ("changes", &["seq", "entity", "entity_id", "at"]),
    (
        "imports",
        &["id", "source", "requested_by", "started_at", "finished_at", "outcome", "summary", "error", "lease_until"],
    ),
    (
        "matching_runs",
        &[
            "id",
            "status",
            "requested_by",
            "members_total",
            "members_done",
            "created",
            "kept",
            "held_back",
            "error",
            "created_at",
            "finished_at",
        ],
    ),
    (
        "suggestions",
        &[
            "id",
            "kind",
            "member_id",
            "target",
            "project_id",
            "partner_id",
            "run_id",
            "score",
            "explanation",
            "rationale",
            "status",
            "decision_reason",
            "decided_by",
            "decided_at",
            "reaction",
            "reaction_reason",
            "reaction_comment",
            "reacted_at",
            "digest_id",
            "delivered_at",
            "version",
            "created_at",
            "updated_at",
        ],
    ),
    ("suggestion_events", &["id", "suggestion_id", "field", "from_value", "to_value", "actor", "reason", "at"]),
    (
        "suggestion_outcomes",
        &["id", "suggestion_id", "outcome", "occurred_on", "call_ref", "recorded_by", "recorded_at"],
    ),
    ("outcome_questions", &["suggestion_id", "digest_id", "asked_at"]),
    (
        "digests",
        &[
            "id",
            "member_id",
            "week",
            "message_id",
            "recipient",
            "language",
            "subject",
            "html",
            "text",
            "status",
            "attempts",
            "next_attempt_at",
            "lease_owner",
            "lease_until",
            "last_error",
            "sent_at",
            "version",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "introductions",
        &[
            "id",
            "suggestion_id",
            "member_id",
            "counterpart_id",
            "status",
            "note",
            "requested_by",
            "requested_at",
            "consent_until",
            "answered_at",
            "done_by",
            "done_at",
            "staff_note",
            "version",
            "updated_at",
        ],
    ),
    (
        "messages",
        &[
            "id",
            "kind",
            "introduction_id",
            "message_id",
            "recipients",
            "language",
            "subject",
            "html",
            "text",
            "status",
            "attempts",
            "next_attempt_at",
            "lease_owner",
            "lease_until",
            "last_error",
            "sent_at",
            "version",
            "created_at",
            "updated_at",
        ],
    ),
    ("job_runs", &["job", "period", "owner", "lease_until", "state", "started_at", "heartbeat_at", "finished_at"]),
    (
        "webhook_endpoints",
        &[
            "id",
            "client_id",
            "url",
            "events",
            "secret",
            "previous_secret",
            "previous_until",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "failing_since",
            "version",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "webhook_deliveries",
        &[
            "id",
            "endpoint_id",
            "member_id",
            "other_member_id",
            "event",
            "body",
            "status",
            "attempts",
            "next_attempt_at",
            "lease_owner",
            "lease_until",
            "last_error",
            "last_status",
            "sent_at",
            "version",
            "created_at",
            "updated_at",
        ],
    ),
    ("console_sessions", &["id_hash", "user_id", "token_version", "csrf", "created_at", "last_seen_at"]),
];
