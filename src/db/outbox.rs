//! The guarded updates both outboxes (digests, other messages) move their rows with: the tables share their sending
//! columns, so one macro writes the queries for each. `queued` → `sending` (leased by the database's clock) →
//! `sent`, or back to `queued` with a back-off, or `failed`.

/// The sending statuses, as stored (the digests' and the messages' are the same).
pub use crate::domain::digest::DigestStatus as SendStatus;

/// How many rows one claim tries, each lost to another instance, before it gives up for this pass (a claim is
/// retried on the sender's next pass).
pub const CLAIM_TRIES: usize = 16;

/// Write, in the module of one outbox table, `claim`, `claim_first`, `set_sent`, `set_unsent` and `requeue_failed` for it.
macro_rules! outbox_updates {
    ($table:ident) => {
        /// The rows due at `now`: queued and due, or sending with a lease that ran out.
        macro_rules! due_at {
            ($now:expr) => {
                $table::status
                    .eq($crate::db::outbox::SendStatus::Queued.as_str())
                    .and($table::next_attempt_at.le($now))
                    .or($table::status
                        .eq($crate::db::outbox::SendStatus::Sending.as_str())
                        .and($table::lease_until.lt($now)))
            };
        }

        /// Lease row `id` to `owner` until `now + lease`, if it is still due (the claim is an UPDATE guarded by the
        /// same condition, so two instances never both win one row). Whether it was claimed.
        pub fn claim(
            conn: &mut $crate::db::DbConnection,
            id: &str,
            owner: &str,
            now: chrono::NaiveDateTime,
            lease: chrono::TimeDelta,
        ) -> diesel::QueryResult<bool> {
            let claimed = diesel::update($table::table.filter($table::id.eq(id)).filter(due_at!(now)))
                .set((
                    $table::status.eq($crate::db::outbox::SendStatus::Sending.as_str()),
                    $table::lease_owner.eq(owner),
                    $table::lease_until.eq(now + lease),
                    $table::attempts.eq($table::attempts + 1),
                    $table::version.eq($table::version + 1),
                ))
                .execute(conn)?;
            Ok(claimed == 1)
        }

        /// Claim the first row `next` names (it reads the oldest due row). Another instance can claim that row
        /// between the read and the claim; then the row is no longer due and `next` names the one after it, so a
        /// lost race never stops a sender while rows are due. At most `CLAIM_TRIES` rows are tried. The claimed id.
        pub fn claim_first(
            conn: &mut $crate::db::DbConnection,
            owner: &str,
            now: chrono::NaiveDateTime,
            lease: chrono::TimeDelta,
            mut next: impl FnMut(&mut $crate::db::DbConnection) -> diesel::QueryResult<Option<String>>,
        ) -> diesel::QueryResult<Option<String>> {
            for _ in 0..$crate::db::outbox::CLAIM_TRIES {
                let Some(id) = next(conn)? else { return Ok(None) };
                if claim(conn, &id, owner, now, lease)? {
                    return Ok(Some(id));
                }
            }
            Ok(None)
        }

        /// A row being sent went out.
        pub fn set_sent(
            conn: &mut $crate::db::DbConnection,
            id: &str,
            now: chrono::NaiveDateTime,
        ) -> diesel::QueryResult<usize> {
            use $crate::db::outbox::SendStatus;
            diesel::update(
                $table::table.filter($table::id.eq(id)).filter($table::status.eq(SendStatus::Sending.as_str())),
            )
            .set((
                $table::status.eq(SendStatus::Sent.as_str()),
                $table::sent_at.eq(now),
                $table::lease_owner.eq(None::<String>),
                $table::lease_until.eq(None::<chrono::NaiveDateTime>),
                $table::last_error.eq(None::<String>),
                $table::version.eq($table::version + 1),
                $table::updated_at.eq(now),
            ))
            .execute(conn)
        }

        /// A row `owner` was sending did not go out: give up the lease, with the status it goes to, when to try next
        /// and the error.
        pub fn set_unsent(
            conn: &mut $crate::db::DbConnection,
            id: &str,
            owner: &str,
            status: $crate::db::outbox::SendStatus,
            next_attempt_at: chrono::NaiveDateTime,
            error: &str,
            now: chrono::NaiveDateTime,
        ) -> diesel::QueryResult<usize> {
            use $crate::db::outbox::SendStatus;
            diesel::update(
                $table::table
                    .filter($table::id.eq(id))
                    .filter($table::status.eq(SendStatus::Sending.as_str()))
                    .filter($table::lease_owner.eq(owner)),
            )
            .set((
                $table::status.eq(status.as_str()),
                $table::next_attempt_at.eq(next_attempt_at),
                $table::lease_owner.eq(None::<String>),
                $table::lease_until.eq(None::<chrono::NaiveDateTime>),
                $table::last_error.eq(Some(error)),
                $table::version.eq($table::version + 1),
                $table::updated_at.eq(now),
            ))
            .execute(conn)
        }

        /// A failed row back to the queue, due at `due`, with its tries counted afresh.
        pub fn requeue_failed(
            conn: &mut $crate::db::DbConnection,
            id: &str,
            due: chrono::NaiveDateTime,
            now: chrono::NaiveDateTime,
        ) -> diesel::QueryResult<usize> {
            use $crate::db::outbox::SendStatus;
            diesel::update(
                $table::table.filter($table::id.eq(id)).filter($table::status.eq(SendStatus::Failed.as_str())),
            )
            .set((
                $table::status.eq(SendStatus::Queued.as_str()),
                $table::attempts.eq(0),
                $table::next_attempt_at.eq(due),
                $table::version.eq($table::version + 1),
                $table::updated_at.eq(now),
            ))
            .execute(conn)
        }
    };
}

pub(crate) use outbox_updates;
