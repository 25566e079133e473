import GRDB

extension PaperPostDatabase {
    /// The schema, one migration per change. Migrations are never edited once landed: a
    /// database in the field has already run them.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("v1: subscribers") { db in
            try db.create(table: "subscriber") { t in
                t.autoIncrementedPrimaryKey("id")
                // As the person typed it; NULL once forgotten.
                t.column("email", .text)
                // What addresses are compared by (see EmailAddress.key); "sha256:…" once forgotten.
                t.column("email_key", .text).notNull().unique()
                t.column("name", .text)
                t.column("language", .text).notNull()
                    .check { ["zh", "en"].contains($0) }
                t.column("status", .text).notNull()
                    .check { ["pending", "active", "paused", "unsubscribed", "bounced"].contains($0) }
                // Signs this subscriber's links; rotating it revokes every link already mailed.
                t.column("secret", .text).notNull()
                t.column("bounce_count", .integer).notNull().defaults(to: 0)
                t.column("created_at", .datetime).notNull()
                t.column("confirmed_at", .datetime)
                t.column("unsubscribed_at", .datetime)
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(index: "subscriber_by_status", on: "subscriber", columns: ["status"])

            try db.create(table: "subscriber_category") { t in
                t.column("subscriber_id", .integer).notNull()
                    .references("subscriber", onDelete: .cascade)
                t.column("category", .text).notNull()
                t.column("position", .integer).notNull()
                t.primaryKey(["subscriber_id", "category"])
            }
            try db.create(index: "subscriber_category_by_category", on: "subscriber_category", columns: ["category"])

            try db.create(table: "subscriber_event") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("subscriber_id", .integer).notNull()
                    .references("subscriber", onDelete: .cascade)
                t.column("kind", .text).notNull()
                t.column("source", .text).notNull()
                    .check { ["cli", "import", "web", "link", "bounce"].contains($0) }
                t.column("detail", .text)
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "subscriber_event_by_subscriber", on: "subscriber_event", columns: ["subscriber_id"])
        }

        migrator.registerMigration("v2: papers and announcements") { db in
            try db.create(table: "paper") { t in
                // arXiv identifier without version: 2602.17547, astro-ph/0601001.
                t.primaryKey("id", .text)
                t.column("version", .integer).notNull()
                t.column("title", .text).notNull()
                t.column("abstract", .text).notNull()
                // JSON array, in the paper's order: an ordered list nobody queries into.
                t.column("authors", .text).notNull()
                t.column("primary_category", .text).notNull()
                t.column("published", .datetime)
                t.column("updated", .datetime)
                t.column("comment", .text)
                t.column("journal_ref", .text)
                t.column("doi", .text)
                // Whether the arXiv API's details were merged in (false: the feed's data only).
                t.column("enriched", .boolean).notNull()
                t.column("first_seen_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(table: "paper_category") { t in
                t.column("paper_id", .text).notNull().references("paper", onDelete: .cascade)
                t.column("category", .text).notNull()
                t.column("position", .integer).notNull()
                t.primaryKey(["paper_id", "category"])
            }
            try db.create(index: "paper_category_by_category", on: "paper_category", columns: ["category"])

            // One row per arXiv mailing day; an empty announcement is recorded as such.
            try db.create(table: "announcement") { t in
                t.primaryKey("day", .text)
                // The categories asked for, space-separated, as a record of what was fetched.
                t.column("categories", .text).notNull()
                t.column("paper_count", .integer).notNull()
                t.column("source", .text).notNull()
                t.column("fetched_at", .datetime).notNull()
            }
            try db.create(table: "announcement_paper") { t in
                t.column("day", .text).notNull().references("announcement", onDelete: .cascade)
                t.column("paper_id", .text).notNull().references("paper")
                t.column("announce_type", .text).notNull()
                    .check { ["new", "cross", "replace", "replace-cross"].contains($0) }
                t.primaryKey(["day", "paper_id"])
            }
        }

        migrator.registerMigration("v3: curation") { db in
            // Every call to the language model, as the endpoint reported it. Digest totals are
            // sums over this table, so they always equal what was billed.
            try db.create(table: "llm_call") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("day", .text).notNull()
                t.column("purpose", .text).notNull().check { ["score", "summarize"].contains($0) }
                t.column("language", .text)
                t.column("model", .text).notNull()
                t.column("paper_ids", .text).notNull()
                t.column("prompt_tokens", .integer).notNull()
                t.column("completion_tokens", .integer).notNull()
                t.column("cost", .double)
                t.column("currency", .text).notNull()
                t.column("latency_ms", .integer).notNull()
                // ok: used; invalid: answered but unusable; failed: no answer.
                t.column("outcome", .text).notNull().check { ["ok", "invalid", "failed"].contains($0) }
                t.column("detail", .text)
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "llm_call_by_day", on: "llm_call", columns: ["day"])

            // Model answers by paper + prompt version + model + language: curating a day again bills nothing.
            try db.create(table: "llm_cache") { t in
                t.primaryKey("key", .text)
                t.column("purpose", .text).notNull()
                t.column("paper_id", .text).notNull()
                t.column("language", .text).notNull()
                t.column("model", .text).notNull()
                t.column("prompt_version", .text).notNull()
                t.column("result", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }

            try db.create(table: "digest") { t in
                t.primaryKey("day", .text)
                t.column("mode", .text).notNull().check { ["llm", "heuristic", "mixed"].contains($0) }
                t.column("model", .text)
                t.column("candidates", .integer).notNull()
                t.column("must_read", .integer).notNull()
                t.column("more", .integer).notNull()
                t.column("languages", .text).notNull()
                t.column("categories", .text).notNull()
                t.column("currency", .text).notNull()
                t.column("notes", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
            // Every scanned paper with its score; rank 1 is the best. Per-category ranks are
            // this order restricted to a category, so they are not stored twice.
            try db.create(table: "digest_entry") { t in
                t.column("day", .text).notNull().references("digest", onDelete: .cascade)
                t.column("paper_id", .text).notNull().references("paper")
                t.column("rank", .integer).notNull()
                t.column("score", .double).notNull()
                t.column("scored_by", .text).notNull().check { ["llm", "heuristic"].contains($0) }
                t.primaryKey(["day", "paper_id"])
            }
            try db.create(table: "digest_reason") { t in
                t.column("day", .text).notNull()
                t.column("paper_id", .text).notNull()
                t.column("language", .text).notNull()
                t.column("reason", .text).notNull()
                t.primaryKey(["day", "paper_id", "language"])
                t.foreignKey(["day", "paper_id"], references: "digest_entry", onDelete: .cascade)
            }
            try db.create(table: "digest_summary") { t in
                t.column("day", .text).notNull()
                t.column("paper_id", .text).notNull()
                t.column("language", .text).notNull()
                t.column("title", .text).notNull()
                t.column("background", .text).notNull()
                t.column("innovation", .text).notNull()
                t.column("details", .text).notNull()
                t.column("results", .text).notNull()
                t.column("source", .text).notNull().check { ["llm", "heuristic"].contains($0) }
                t.primaryKey(["day", "paper_id", "language"])
                t.foreignKey(["day", "paper_id"], references: "digest_entry", onDelete: .cascade)
            }
        }

        migrator.registerMigration("v4: deliveries") { db in
            // One row per (digest, subscriber): the exactly-once record. A row is committed as
            // 'sending' before its message goes on the wire and as 'sent' after the server
            // accepted it, so a crash leaves 'sending' rows for exactly the uncertain messages.
            try db.create(table: "delivery") { t in
                t.column("day", .text).notNull()
                t.column("subscriber_id", .integer).notNull().references("subscriber", onDelete: .cascade)
                t.column("email", .text).notNull()
                t.column("state", .text).notNull()
                    .check { ["queued", "sending", "sent", "deferred", "failed", "skipped"].contains($0) }
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("last_code", .integer)
                t.column("last_reply", .text)
                t.column("message_id", .text)
                t.column("bytes", .integer)
                t.column("next_attempt_at", .datetime)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.column("sent_at", .datetime)
                t.primaryKey(["day", "subscriber_id"])
            }
            // The claim reads the next due rows in subscriber order: a range scan on this index.
            try db.create(index: "delivery_queue", on: "delivery", columns: ["day", "state", "subscriber_id"])

            // Only one send per digest at a time: a lease with an owner and an expiry, renewed
            // while the send runs, so a crashed sender's lease simply runs out.
            try db.create(table: "send_lease") { t in
                t.primaryKey("day", .text)
                t.column("owner", .text).notNull()
                t.column("expires_at", .datetime).notNull()
            }

            // Hard bounces, one per subscriber and digest: the bounce threshold counts digests.
            try db.create(table: "bounce") { t in
                t.column("subscriber_id", .integer).notNull().references("subscriber", onDelete: .cascade)
                t.column("day", .text).notNull()
                t.column("reply", .text)
                t.column("created_at", .datetime).notNull()
                t.primaryKey(["subscriber_id", "day"])
            }
        }
        migrator.registerMigration("v5: fenced send lease") { db in
            // Every claim and outcome a sender writes checks that its (owner, generation) still
            // holds the lease; a takeover bumps the generation, so a sender that was paused past
            // its lease and resumed cannot write another message into the log.
            try db.alter(table: "send_lease") { t in
                t.add(column: "generation", .integer).notNull().defaults(to: 0)
            }
        }
        migrator.registerMigration("v6: probe calls in the ledger") { db in
            // A run's first request is a minimal probe, and its tokens are billed like any
            // other. SQLite cannot change a CHECK constraint, so the table is rebuilt.
            try db.create(table: "llm_call_v6") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("day", .text).notNull()
                t.column("purpose", .text).notNull().check { ["score", "summarize", "probe"].contains($0) }
                t.column("language", .text)
                t.column("model", .text).notNull()
                t.column("paper_ids", .text).notNull()
                t.column("prompt_tokens", .integer).notNull()
                t.column("completion_tokens", .integer).notNull()
                t.column("cost", .double)
                t.column("currency", .text).notNull()
                t.column("latency_ms", .integer).notNull()
                t.column("outcome", .text).notNull().check { ["ok", "invalid", "failed"].contains($0) }
                t.column("detail", .text)
                t.column("created_at", .datetime).notNull()
            }
            try db.execute(sql: "INSERT INTO llm_call_v6 SELECT * FROM llm_call")
            try db.drop(table: "llm_call")
            try db.rename(table: "llm_call_v6", to: "llm_call")
            try db.create(index: "llm_call_by_day", on: "llm_call", columns: ["day"])
        }
        migrator.registerMigration("v7: bounce score and inbound mail") { db in
            // A delivery the relay accepted can bounce later: 'bounced' joins the states.
            // SQLite cannot change a CHECK constraint, so the table is rebuilt.
            try db.create(table: "delivery_v7") { t in
                t.column("day", .text).notNull()
                t.column("subscriber_id", .integer).notNull().references("subscriber", onDelete: .cascade)
                t.column("email", .text).notNull()
                t.column("state", .text).notNull()
                    .check { ["queued", "sending", "sent", "deferred", "failed", "skipped", "bounced"].contains($0) }
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("last_code", .integer)
                t.column("last_reply", .text)
                t.column("message_id", .text)
                t.column("bytes", .integer)
                t.column("next_attempt_at", .datetime)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.column("sent_at", .datetime)
                t.primaryKey(["day", "subscriber_id"])
            }
            try db.execute(sql: "INSERT INTO delivery_v7 SELECT * FROM delivery")
            try db.drop(table: "delivery")
            try db.rename(table: "delivery_v7", to: "delivery")
            try db.create(index: "delivery_queue", on: "delivery", columns: ["day", "state", "subscriber_id"])
            // A bounce quotes the Message-ID it is about when it carries no return-path token.
            try db.create(index: "delivery_by_message_id", on: "delivery", columns: ["message_id"])

            // Every bounce, complaint, unsubscribe request and auto-reply that named a
            // subscriber, whether it was read from the SMTP dialogue or from mail coming back.
            try db.create(table: "bounce_event") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("subscriber_id", .integer).notNull().references("subscriber", onDelete: .cascade)
                // The digest it is about, when known.
                t.column("day", .text)
                t.column("kind", .text).notNull()
                    .check { ["hard", "soft", "delayed", "complaint", "unsubscribe", "auto_reply"].contains($0) }
                t.column("source", .text).notNull().check { ["smtp", "inbound"].contains($0) }
                // What it added to the score (0 for a second bounce on the same day).
                t.column("weight", .double).notNull().defaults(to: 0)
                t.column("status", .text)
                t.column("reply_code", .text)
                t.column("diagnostic", .text)
                t.column("feedback_type", .text)
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "bounce_event_by_subscriber", on: "bounce_event", columns: ["subscriber_id"])
            try db.create(index: "bounce_event_by_day", on: "bounce_event", columns: ["day"])
            try db.execute(
                sql: """
                    INSERT INTO bounce_event (subscriber_id, day, kind, source, weight, diagnostic, created_at)
                    SELECT subscriber_id, day, 'hard', 'smtp', 1, reply, created_at FROM bounce
                    """)
            try db.drop(table: "bounce")

            // The score (hard 1, soft 0.5, one bounce a day) and the day it last moved: it
            // starts again from zero after a quiet period.
            try db.alter(table: "subscriber") { t in
                t.add(column: "bounce_score", .double).notNull().defaults(to: 0)
                t.add(column: "last_bounce_at", .datetime)
            }
            try db.execute(
                sql: """
                    UPDATE subscriber SET bounce_score = bounce_count,
                        last_bounce_at = (SELECT MAX(created_at) FROM bounce_event WHERE subscriber_id = subscriber.id)
                    """)

            // Inbound messages already read, by the SHA-256 of their bytes: reading the same
            // message again (a retried pipe, a Maildir read twice) changes nothing.
            try db.create(table: "inbound_message") { t in
                t.primaryKey("digest", .text)
                t.column("kind", .text).notNull()
                t.column("summary", .text)
                t.column("received_at", .datetime).notNull()
            }
        }
        migrator.registerMigration("v8: daily runs") { db in
            // One row per `paperpost daily`: when it ran and how it ended, for the operator's
            // metrics. A run killed before it finished stays 'running'.
            try db.create(table: "daily_run") { t in
                t.autoIncrementedPrimaryKey("id")
                // The announcement day, once the fetch has named it.
                t.column("day", .text)
                t.column("started_at", .datetime).notNull()
                t.column("finished_at", .datetime)
                t.column("outcome", .text).notNull()
                    .check { ["running", "ok", "partial", "failed", "no_announcement"].contains($0) }
                t.column("detail", .text)
            }
            // Sign-ups and unsubscribes are counted from the audit trail by kind.
            try db.create(index: "subscriber_event_by_kind", on: "subscriber_event", columns: ["kind", "source"])
        }
        migrator.registerMigration("v9: reader interests") { db in
            // Interest phrases, muted phrases and followed authors, in the reader's order.
            try db.create(table: "subscriber_interest") { t in
                t.column("subscriber_id", .integer).notNull().references("subscriber", onDelete: .cascade)
                t.column("kind", .text).notNull().check { ["interest", "muted", "author"].contains($0) }
                t.column("phrase", .text).notNull()
                t.column("position", .integer).notNull()
                t.primaryKey(["subscriber_id", "kind", "position"])
            }
        }
        migrator.registerMigration("v10: votes and taste") { db in
            // "More / less like this" from the links in the email: one vote per reader and
            // paper, the last one standing.
            try db.create(table: "subscriber_vote") { t in
                t.column("subscriber_id", .integer).notNull().references("subscriber", onDelete: .cascade)
                t.column("paper_id", .text).notNull()
                t.column("vote", .integer).notNull().check { [1, -1].contains($0) }
                t.column("created_at", .datetime).notNull()
                t.primaryKey(["subscriber_id", "paper_id"])
            }
            // The reader's term vector, remade from their votes on each vote, so that ranking
            // a reader reads one row rather than every paper they ever voted on.
            try db.create(table: "subscriber_taste") { t in
                t.primaryKey("subscriber_id", .integer).references("subscriber", onDelete: .cascade)
                t.column("terms", .text).notNull()
                t.column("updated_at", .datetime).notNull()
            }
        }
        migrator.registerMigration("v11: daily or weekly") { db in
            // `daily`, or `weekly:mon` … `weekly:fri`.
            try db.alter(table: "subscriber") { t in
                t.add(column: "schedule", .text).notNull().defaults(to: "daily")
            }
        }
        migrator.registerMigration("v12: a delivery log without secondary indexes") { db in
            // A send writes each row twice (sending, then sent), and every index on the row
            // is written with it: the (day, state, subscriber) index moved each entry twice and
            // the Message-ID index took an insert at a random place, together a sixth of a
            // send's CPU. The sender reads due rows in subscriber order from a cursor, which the
            // primary key (day, subscriber) serves; counts per state read the day's rows; and a
            // bounce's Message-ID names its day and subscriber (`<day.subscriber.tag@…>`).
            try db.drop(index: "delivery_queue")
            try db.drop(index: "delivery_by_message_id")
        }
        migrator.registerMigration("v13: the relay of each delivery") { db in
            // With a pool of relays, which one took (or refused) a message; NULL for the
            // outbox and for rows written before.
            try db.alter(table: "delivery") { t in
                t.add(column: "relay", .text)
            }
        }
        migrator.registerMigration("v14: rate limits shared by every web server") { db in
            // One row per admitted event; `key` is a keyed hash of the client or email address.
            try db.create(table: "rate_event") { t in
                t.column("scope", .text).notNull()
                t.column("key", .blob).notNull()
                t.column("at", .double).notNull()
            }
            try db.create(index: "rate_event_by_key", on: "rate_event", columns: ["scope", "key", "at"])
            try db.create(index: "rate_event_by_time", on: "rate_event", columns: ["at"])
        }
        migrator.registerMigration("v15: several senders per digest") { db in
            // One lease per sender instead of one per digest: several `send` processes share a
            // digest, each fenced by its own lease row (a takeover deletes it). Each delivery
            // row names the sender that reserved it (its read-ahead) and then claimed it, so a
            // takeover knows which rows to free and which `sending` rows are uncertain.
            try db.create(table: "send_lease_v15") { t in
                t.column("day", .text).notNull()
                t.column("owner", .text).notNull()
                t.column("expires_at", .datetime).notNull()
                t.column("generation", .integer).notNull().defaults(to: 1)
                t.primaryKey(["day", "owner"])
            }
            try db.execute(sql: "INSERT INTO send_lease_v15 (day, owner, expires_at, generation) SELECT day, owner, expires_at, generation FROM send_lease")
            try db.drop(table: "send_lease")
            try db.rename(table: "send_lease_v15", to: "send_lease")
            try db.alter(table: "delivery") { t in
                t.add(column: "sender", .text)
            }
        }
        return migrator
    }
}
