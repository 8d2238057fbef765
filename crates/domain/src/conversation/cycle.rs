//! The conversation as an entity: one per contact and business number, lived in cycles.
//! A cycle opens when the person writes (or the business starts one), may pass to a bot
//! flow, a queue and an agent, and ends resolved; the person's next message opens the
//! next cycle. Who owns the conversation follows from where it stands, so it has exactly
//! one owner at a time (nobody, a bot flow, a queue, an agent), and only the transitions
//! below are legal. Every move advances a version, so that the store (the next step) can
//! write each one conditionally on the version it read: two writers never both move the
//! same conversation, and two agents never both take it.

/// Where a cycle stands, with its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Opened, and nobody took it yet.
    Open,
    /// A bot flow answers it.
    WithBot { flow_id: String },
    /// It waits in a queue for an agent.
    Queued { queue_id: String },
    /// An agent has it; `queue_id` is the queue it came from, if any.
    Assigned {
        agent_id: String,
        queue_id: Option<String>,
    },
    /// Done until the person writes again.
    Resolved,
}

/// Who owns a conversation: exactly one at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner<'a> {
    Nobody,
    Bot(&'a str),
    Queue(&'a str),
    Agent(&'a str),
}

impl Stage {
    pub fn owner(&self) -> Owner<'_> {
        match self {
            Self::Open | Self::Resolved => Owner::Nobody,
            Self::WithBot { flow_id } => Owner::Bot(flow_id),
            Self::Queued { queue_id } => Owner::Queue(queue_id),
            Self::Assigned { agent_id, .. } => Owner::Agent(agent_id),
        }
    }

    /// Where it stands, in words.
    fn where_it_is(&self) -> &'static str {
        match self {
            Self::Open => "that is open",
            Self::WithBot { .. } => "with a bot",
            Self::Queued { .. } => "in a queue",
            Self::Assigned { .. } => "assigned to an agent",
            Self::Resolved => "that is resolved",
        }
    }

    /// The stage's name, as the API and the events show it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::WithBot { .. } => "bot",
            Self::Queued { .. } => "queued",
            Self::Assigned { .. } => "assigned",
            Self::Resolved => "resolved",
        }
    }
}

/// What moves a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The person wrote a message sent at `sent_at`: one sent after the resolve opens the
    /// next cycle; one sent before it (a late delivery, a retry, a redelivery) and one in
    /// an open cycle move nothing.
    PersonWrote { sent_at: i64 },
    /// A bot flow takes an open conversation.
    HandToBot { flow_id: String },
    /// Into a queue: from open, from a bot (its hand-off), or from an agent (a transfer
    /// to a queue, or giving it back).
    Enqueue { queue_id: String },
    /// To an agent: from open, a bot, a queue, or another agent (a transfer or a
    /// manager's take-over).
    Assign { agent_id: String },
    /// Done: from any stage but resolved.
    Resolve,
    /// The business opens the next cycle of a resolved conversation itself.
    Reopen,
}

/// The conversation of one contact on one business number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub contact_id: String,
    pub phone_number_id: String,
    /// The cycle, from 1.
    pub cycle: u32,
    pub stage: Stage,
    /// When the cycle opened, epoch seconds.
    pub opened_at: i64,
    /// When it reached its stage.
    pub stage_at: i64,
    /// Moves with every transition: a write is conditional on the version it read.
    pub version: u64,
}

/// A transition the conversation's stage does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a conversation {where_it_is} cannot {transition}")]
pub struct IllegalTransition {
    /// The stage's name (`Stage::name`).
    pub stage: &'static str,
    where_it_is: &'static str,
    pub transition: &'static str,
}

/// What a legal transition came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    /// The conversation as it is now.
    To(Conversation),
    /// Nothing to change (the person wrote in an open cycle; a conversation assigned to
    /// the same agent again).
    Unchanged,
}

impl Transition {
    fn name(&self) -> &'static str {
        match self {
            Self::PersonWrote { .. } => "open on a message",
            Self::HandToBot { .. } => "go to a bot",
            Self::Enqueue { .. } => "be queued",
            Self::Assign { .. } => "be assigned",
            Self::Resolve => "be resolved",
            Self::Reopen => "be reopened",
        }
    }
}

impl Conversation {
    /// The first cycle of a conversation, opened at `at`.
    pub fn opened(contact_id: &str, phone_number_id: &str, at: i64) -> Self {
        Self {
            contact_id: contact_id.to_owned(),
            phone_number_id: phone_number_id.to_owned(),
            cycle: 1,
            stage: Stage::Open,
            opened_at: at,
            stage_at: at,
            version: 1,
        }
    }

    /// The conversation after `transition` at `at`, or why it may not move so.
    pub fn apply(&self, transition: &Transition, at: i64) -> Result<Moved, IllegalTransition> {
        use Stage::*;
        let illegal = || IllegalTransition {
            stage: self.stage.name(),
            where_it_is: self.stage.where_it_is(),
            transition: transition.name(),
        };
        let stage = match (&self.stage, transition) {
            (Resolved, Transition::PersonWrote { sent_at }) if *sent_at > self.stage_at => {
                return Ok(Moved::To(self.next_cycle(at)));
            }
            (Resolved, Transition::Reopen) => return Ok(Moved::To(self.next_cycle(at))),
            (_, Transition::PersonWrote { .. }) => return Ok(Moved::Unchanged),
            (_, Transition::Reopen) => return Err(illegal()),
            (Resolved, _) => return Err(illegal()),
            (_, Transition::Resolve) => Resolved,
            (Open, Transition::HandToBot { flow_id }) => WithBot {
                flow_id: flow_id.clone(),
            },
            (_, Transition::HandToBot { .. }) => return Err(illegal()),
            (Queued { queue_id: from }, Transition::Enqueue { queue_id }) if from == queue_id => {
                return Ok(Moved::Unchanged);
            }
            (_, Transition::Enqueue { queue_id }) => Queued {
                queue_id: queue_id.clone(),
            },
            (Assigned { agent_id: from, .. }, Transition::Assign { agent_id })
                if from == agent_id =>
            {
                return Ok(Moved::Unchanged);
            }
            (current, Transition::Assign { agent_id }) => Assigned {
                agent_id: agent_id.clone(),
                queue_id: match current {
                    Queued { queue_id } => Some(queue_id.clone()),
                    Assigned { queue_id, .. } => queue_id.clone(),
                    _ => None,
                },
            },
        };
        Ok(Moved::To(Self {
            stage,
            stage_at: at,
            version: self.version + 1,
            ..self.clone()
        }))
    }

    fn next_cycle(&self, at: i64) -> Self {
        Self {
            cycle: self.cycle + 1,
            stage: Stage::Open,
            opened_at: at,
            stage_at: at,
            version: self.version + 1,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> Conversation {
        Conversation::opened("c1", "106540352242922", 100)
    }

    fn moved(c: &Conversation, t: Transition, at: i64) -> Conversation {
        match c.apply(&t, at).unwrap() {
            Moved::To(next) => next,
            Moved::Unchanged => panic!("{t:?} changed nothing"),
        }
    }

    fn queue(id: &str) -> Transition {
        Transition::Enqueue {
            queue_id: id.into(),
        }
    }

    fn agent(id: &str) -> Transition {
        Transition::Assign {
            agent_id: id.into(),
        }
    }

    #[test]
    fn a_cycle_goes_from_a_bot_to_a_queue_to_an_agent_and_a_message_after_resolve_opens_the_next() {
        let bot = moved(
            &open(),
            Transition::HandToBot {
                flow_id: "greeting".into(),
            },
            110,
        );
        assert_eq!(bot.stage.owner(), Owner::Bot("greeting"));
        let queued = moved(&bot, queue("billing"), 120);
        assert_eq!(queued.stage.owner(), Owner::Queue("billing"));
        let assigned = moved(&queued, agent("ana"), 130);
        assert_eq!(
            assigned.stage,
            Stage::Assigned {
                agent_id: "ana".into(),
                queue_id: Some("billing".into())
            }
        );
        let resolved = moved(&assigned, Transition::Resolve, 140);
        assert_eq!(resolved.stage.owner(), Owner::Nobody);
        // A message sent before the resolve, arriving after it, opens nothing.
        assert_eq!(
            resolved.apply(&Transition::PersonWrote { sent_at: 135 }, 150),
            Ok(Moved::Unchanged)
        );
        let next = moved(&resolved, Transition::PersonWrote { sent_at: 150 }, 150);
        assert_eq!(
            (next.cycle, next.stage.clone(), next.opened_at),
            (2, Stage::Open, 150)
        );
        // Every move moves the version, which the store's conditional write checks.
        let versions: Vec<u64> = [&open(), &bot, &queued, &assigned, &resolved, &next]
            .iter()
            .map(|c| c.version)
            .collect();
        assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_message_in_an_open_cycle_and_a_repeated_move_change_nothing() {
        let assigned = moved(&open(), agent("ana"), 110);
        assert_eq!(
            assigned.apply(&Transition::PersonWrote { sent_at: 120 }, 120),
            Ok(Moved::Unchanged)
        );
        assert_eq!(assigned.apply(&agent("ana"), 120), Ok(Moved::Unchanged));
        let queued = moved(&open(), queue("sales"), 110);
        assert_eq!(queued.apply(&queue("sales"), 120), Ok(Moved::Unchanged));
    }

    #[test]
    fn a_transfer_keeps_the_queue_it_came_from_and_a_takeover_replaces_the_agent() {
        let assigned = moved(&moved(&open(), queue("sales"), 110), agent("ana"), 120);
        let transferred = moved(&assigned, agent("ben"), 130);
        assert_eq!(
            transferred.stage,
            Stage::Assigned {
                agent_id: "ben".into(),
                queue_id: Some("sales".into())
            }
        );
        let back = moved(&transferred, queue("support"), 140);
        assert_eq!(back.stage.owner(), Owner::Queue("support"));
    }

    #[test]
    fn illegal_moves_are_refused_by_name() {
        let resolved = moved(&open(), Transition::Resolve, 110);
        for t in [agent("ana"), queue("q"), Transition::Resolve] {
            assert_eq!(
                resolved.apply(&t, 120).unwrap_err().stage,
                "resolved",
                "{t:?}"
            );
        }
        let with_agent = moved(&open(), agent("ana"), 110);
        let err = with_agent
            .apply(
                &Transition::HandToBot {
                    flow_id: "f".into(),
                },
                120,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a conversation assigned to an agent cannot go to a bot"
        );
        assert!(open().apply(&Transition::Reopen, 120).is_err());
        let reopened = moved(&resolved, Transition::Reopen, 130);
        assert_eq!((reopened.cycle, reopened.stage), (2, Stage::Open));
    }
}
