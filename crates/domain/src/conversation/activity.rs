//! What a conversation's listing shows of its messages: when the person last wrote, when
//! the business last wrote or read, and so whether it is unread. The times move in steps
//! (`ACTIVITY_STEP_SECS`) so that a busy conversation costs no write per message; a turn
//! from read to unread, or back, is always written.

use super::cycle::{Conversation, Moved, Transition};

/// The times below are rewritten only when they move by at least this much, or when the
/// conversation turns unread or answered.
pub const ACTIVITY_STEP_SECS: i64 = 300;

/// When each side last wrote, epoch seconds, to `ACTIVITY_STEP_SECS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Activity {
    pub last_inbound_at: Option<i64>,
    pub last_outbound_at: Option<i64>,
    /// The send time of the newest message of the person's the business marked read.
    pub last_read_at: Option<i64>,
}

impl Activity {
    /// The business wrote, or marked read, after the person's latest recorded message.
    pub fn answered(&self) -> bool {
        self.last_outbound_at
            .max(self.last_read_at)
            .is_some_and(|seen| self.last_inbound_at.is_none_or(|inb| seen >= inb))
    }

    /// The person wrote and the business has not answered since.
    pub fn unread(&self) -> bool {
        self.last_inbound_at.is_some() && !self.answered()
    }

    pub fn last_activity_at(&self) -> Option<i64> {
        self.last_inbound_at.max(self.last_outbound_at)
    }

    /// Whether a message of the person's sent at `at` must be written: the step passed,
    /// or it turns an answered conversation unread.
    pub fn inbound_moves(&self, at: i64) -> bool {
        match self.last_inbound_at {
            None => true,
            Some(last) if at <= last => false,
            Some(last) => at >= last + ACTIVITY_STEP_SECS || self.answered(),
        }
    }

    /// Whether the business writing at `at` must be written: the step passed, or it
    /// answers an unread conversation.
    pub fn outbound_moves(&self, at: i64) -> bool {
        match self.last_outbound_at {
            None => true,
            Some(last) if at <= last => false,
            Some(last) => at >= last + ACTIVITY_STEP_SECS || self.unread(),
        }
    }
}

/// A conversation as it is kept: where its cycle stands, and its activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationState {
    pub conversation: Conversation,
    pub activity: Activity,
}

/// Who wrote a message, and when it was sent (the person's) or sent (the business's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrote {
    Person { sent_at: i64 },
    Business { at: i64 },
}

/// What a message does to a conversation, for the store to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageEffect {
    /// There was none: this one, new.
    Create(ConversationState),
    /// A new cycle: written only over the version it came from.
    Move(ConversationState),
    /// Only its activity moved (the attribute the message moved, and its time).
    Touch(ConversationState, &'static str, i64),
    /// Nothing to write.
    Nothing,
}

impl Wrote {
    fn at(self) -> i64 {
        match self {
            Self::Person { sent_at } => sent_at,
            Self::Business { at } => at,
        }
    }

    fn touched(self, mut activity: Activity) -> Activity {
        match self {
            Self::Person { sent_at } => activity.last_inbound_at = Some(sent_at),
            Self::Business { at } => activity.last_outbound_at = Some(at),
        }
        activity
    }
}

impl ConversationState {
    /// What `wrote` does to the conversation of `contact_id` on `number`, as `current`
    /// holds it. The person writing opens it, or its next cycle after a resolve; the
    /// business writing opens one that does not exist and moves no stage (a reply to a
    /// resolved conversation leaves it resolved).
    pub fn after_message(
        current: Option<&Self>,
        (contact_id, number): (&str, &str),
        wrote: Wrote,
    ) -> MessageEffect {
        let at = wrote.at();
        let Some(state) = current else {
            return MessageEffect::Create(Self {
                conversation: Conversation::opened(contact_id, number, at),
                activity: wrote.touched(Activity::default()),
            });
        };
        let (moves, attribute) = match wrote {
            Wrote::Person { sent_at } => (state.activity.inbound_moves(sent_at), "last_inbound_at"),
            Wrote::Business { at } => (state.activity.outbound_moves(at), "last_outbound_at"),
        };
        if let Wrote::Person { sent_at } = wrote
            && let Ok(Moved::To(next)) = state
                .conversation
                .apply(&Transition::PersonWrote { sent_at }, sent_at)
        {
            return MessageEffect::Move(Self {
                conversation: next,
                activity: wrote.touched(state.activity),
            });
        }
        if moves {
            MessageEffect::Touch(
                Self {
                    conversation: state.conversation.clone(),
                    activity: wrote.touched(state.activity),
                },
                attribute,
                at,
            )
        } else {
            MessageEffect::Nothing
        }
    }

    /// The person's message sent at `sent_at` opened the current cycle: it is the one
    /// written when it opened (a redelivery finds it so too).
    pub fn opened_by(&self, wrote: Wrote) -> bool {
        matches!(wrote, Wrote::Person { sent_at } if self.conversation.opened_at == sent_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_writing_is_written_at_each_step_and_whenever_it_turns_unread() {
        let mut a = Activity::default();
        assert!(a.inbound_moves(1_000));
        a.last_inbound_at = Some(1_000);
        assert!(a.unread());
        assert!(!a.inbound_moves(1_000 + ACTIVITY_STEP_SECS - 1));
        assert!(a.inbound_moves(1_000 + ACTIVITY_STEP_SECS));
        assert!(!a.inbound_moves(900), "an older message moves nothing");
        a.last_outbound_at = Some(1_010);
        assert!(a.answered());
        assert!(
            a.inbound_moves(1_020),
            "an answered conversation turns unread"
        );
    }

    #[test]
    fn the_business_writing_is_written_at_each_step_and_whenever_it_answers() {
        let mut a = Activity {
            last_inbound_at: Some(1_000),
            ..Activity::default()
        };
        assert!(a.outbound_moves(1_001));
        a.last_outbound_at = Some(1_001);
        assert!(!a.outbound_moves(1_002), "answered, within the step");
        assert!(a.outbound_moves(1_001 + ACTIVITY_STEP_SECS));
        a.last_inbound_at = Some(1_100);
        assert!(a.unread());
        assert!(
            a.outbound_moves(1_101),
            "an answer to an unread conversation"
        );
        a.last_read_at = Some(1_100);
        assert!(!a.unread(), "marked read counts as answered");
        assert!(!a.outbound_moves(1_102));
    }

    #[test]
    fn a_message_creates_opens_the_next_cycle_or_touches_the_activity() {
        let who = ("c1", "106540352242922");
        let person = |sent_at| Wrote::Person { sent_at };
        let MessageEffect::Create(first) = ConversationState::after_message(None, who, person(100))
        else {
            panic!("a first message makes the conversation");
        };
        assert!(first.opened_by(person(100)));
        assert!(!first.opened_by(Wrote::Business { at: 100 }));
        assert_eq!(
            ConversationState::after_message(Some(&first), who, person(100)),
            MessageEffect::Nothing,
            "a redelivery writes nothing"
        );
        let MessageEffect::Touch(answered, "last_outbound_at", 130) =
            ConversationState::after_message(Some(&first), who, Wrote::Business { at: 130 })
        else {
            panic!("an answer marks it answered");
        };
        assert!(answered.activity.answered());
        let resolved = ConversationState {
            conversation: match answered.conversation.apply(&Transition::Resolve, 140) {
                Ok(Moved::To(c)) => c,
                other => panic!("{other:?}"),
            },
            ..answered
        };
        let later = 130 + ACTIVITY_STEP_SECS;
        assert_eq!(
            ConversationState::after_message(Some(&resolved), who, Wrote::Business { at: later }),
            MessageEffect::Touch(
                ConversationState {
                    activity: Activity {
                        last_outbound_at: Some(later),
                        ..resolved.activity
                    },
                    ..resolved.clone()
                },
                "last_outbound_at",
                later
            ),
            "the business writing reopens nothing"
        );
        assert_eq!(
            ConversationState::after_message(Some(&resolved), who, Wrote::Business { at: 150 }),
            MessageEffect::Nothing,
            "answered, within the step"
        );
        let MessageEffect::Move(next) =
            ConversationState::after_message(Some(&resolved), who, person(160))
        else {
            panic!("the person writing after the resolve opens the next cycle");
        };
        assert_eq!(
            (next.conversation.cycle, next.conversation.opened_at),
            (2, 160)
        );
        assert!(next.activity.unread());
    }
}
