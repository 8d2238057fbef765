//! A contact's consent: ledger entries in its partition (`CONSENT#<at>#<entry id>`), the
//! state they add up to on its profile (per scope: `<scope>_opt_out`, `_changed_at`,
//! `_seen_at`, `_source`, `_evidence`), and the scope and time alone on an item per
//! identifier (`T#<t>#OPTOUT#<blind index>`) that outlives the contact: when its profile
//! ages out or the person is erased, whoever writes from the identifier next starts opted
//! out. That item holds no evidence and no source: it outlives the person's erasure, so it
//! keeps nothing that could lead back to them.
//!
//! Each write is safe to repeat and to reorder: an entry is put once under its id, and a
//! state moves only for a newer entry that changes it (`_seen_at` orders them; an opt-out
//! of a scope already opted out of keeps the first, so it is acknowledged once).

use crate::store::contact::ContactStore;
use crate::store::conversation::ConversationStore;
use crate::store::conversation::card::next_card_revision;
use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use crate::domain::consent::{Action, ConsentEntry, ConsentMark, ConsentState, Scope, Source};
use crate::domain::identity::IdentityKey;
use crate::domain::message_id::MessageId;
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::store::cursor::Cursor;
use crate::store::item_life::Ageing;
use crate::store::keys::{
    CONSENT_PREFIX, OPT_OUT_SK, PROFILE_SK, RAW_WAMID_MARK, consent_sk, contact_pk, opt_out_pk,
};
use crate::store::table::{Item, Update, bool_attr, get_bool, get_i64, get_s, item, n, s};
use crate::store::{EXPIRES_AT, PutOutcome, StoreError};

/// What recording an entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The entry was already in the ledger (a redelivery or a retried call).
    pub duplicate: bool,
    /// The contact's state afterwards.
    pub state: ConsentState,
}

/// A page of the ledger, newest first.
#[derive(Debug, Clone)]
pub struct ConsentPage {
    pub entries: Vec<ConsentEntry>,
    pub next: Option<Cursor>,
}

impl ContactStore {
    /// Moves one scope's state on the item at `pk`/`sk` to `entry` when it is newer and
    /// changes it; otherwise only notes that an entry of its time was seen. Answers the
    /// item after a move. A profile must exist; an identifier's item is made by its first
    /// opt-out and keeps the scope and time only.
    async fn move_consent(
        &self,
        pk: String,
        sk: String,
        scope: Scope,
        entry: &ConsentEntry,
        holder: Holder,
    ) -> Result<Option<Item>, StoreError> {
        let names = ScopeNames::of(scope);
        let opted_out = entry.action == Action::OptOut;
        let exists = match holder {
            Holder::Profile => "attribute_exists(pk) AND ",
            Holder::Identifier => "",
        };
        let newer = "((attribute_not_exists(#seen) AND (attribute_not_exists(#changed) OR #changed <= :at)) OR #seen <= :at)";
        let mut update = self
            .update("UpdateItem consent", pk.clone(), sk.clone())
            .set(&names.opted_out, bool_attr(opted_out))
            .set(&names.changed_at, n(entry.at))
            .set(&names.seen_at, n(entry.at));
        update = match holder {
            Holder::Profile => next_card_revision(update)
                .set(&names.source, s(entry.source.as_str()))
                .set_or_remove(&names.evidence, entry.evidence.as_deref().map(s)),
            // What an older write left there goes with this one.
            Holder::Identifier => update.remove(&names.source).remove(&names.evidence),
        };
        // What may move the mark, besides a newer time (as `ConsentState::apply`): a
        // change of state; on a profile, the person's own opt-out over the business's
        // (the opt-out becomes theirs). An opt-in the business records without a
        // reference never moves the person's opt-out: checked here as well as before the
        // write, so that a STOP arriving between the two still holds.
        let persons_sources = "(attribute_not_exists(#src) OR #src IN (:keyword, :button, :meta))";
        let moves = match holder {
            Holder::Profile if opted_out && entry.source.is_the_persons() => {
                format!("(attribute_not_exists(#out) OR #out <> :new OR NOT {persons_sources})")
            }
            Holder::Profile
                if !opted_out
                    && !entry.source.is_the_persons()
                    && entry.source != Source::Business =>
            {
                format!("(attribute_not_exists(#out) OR (#out <> :new AND NOT {persons_sources}))")
            }
            _ => "(attribute_not_exists(#out) OR #out <> :new)".to_owned(),
        };
        // The person's own opt-out also replaces what the business's systems recorded
        // (`api`, `import`) whatever its time: in time order, their STOP came first and
        // such an entry could not have moved it.
        let persons_opt_out =
            matches!(holder, Holder::Profile) && opted_out && entry.source.is_the_persons();
        let condition = if persons_opt_out {
            format!("{exists}(({newer} AND {moves}) OR #src IN (:api, :import))")
        } else {
            format!("{exists}{newer} AND {moves}")
        };
        let mut update = update
            .condition(condition)
            .name("#out", &names.opted_out)
            .value(":new", bool_attr(opted_out));
        if matches!(holder, Holder::Profile) && moves.contains("#src") {
            update = update
                .name("#src", &names.source)
                .value(":keyword", s(Source::Keyword.as_str()))
                .value(":button", s(Source::Button.as_str()))
                .value(":meta", s(Source::Meta.as_str()));
        }
        if persons_opt_out {
            update = update
                .value(":api", s(Source::Api.as_str()))
                .value(":import", s(Source::Import.as_str()));
        }
        update = order_by_time(update, &names, entry.at);
        if let Some(moved) = update.send_returning(ReturnValue::AllNew).await? {
            return Ok(Some(moved));
        }
        // The same state already (a second STOP), or an older entry: only its time counts.
        let seen = self
            .update("UpdateItem consent seen", pk, sk)
            .set(&names.seen_at, n(entry.at))
            .condition(format!("{exists}{newer}"));
        order_by_time(seen, &names, entry.at).send().await?;
        Ok(None)
    }

    /// The opt-outs recorded for any of `identifiers`: what a contact made for them starts
    /// with (the latest per scope).
    pub(crate) async fn opt_outs_of(
        &self,
        tenant: &TenantId,
        identifiers: &[IdentityKey],
        now: i64,
    ) -> Result<ConsentState, StoreError> {
        let mut state = ConsentState::default();
        for found in self
            .opt_outs_by_identifier(tenant, identifiers, now)
            .await?
            .values()
        {
            state.take_later(found);
        }
        Ok(state)
    }

    /// The opt-outs recorded per identifier, for those that have one; one BatchGetItem
    /// per 100 identifiers (an import asks for all its new contacts' at once).
    pub(crate) async fn opt_outs_by_identifier(
        &self,
        tenant: &TenantId,
        identifiers: &[IdentityKey],
        now: i64,
    ) -> Result<HashMap<IdentityKey, ConsentState>, StoreError> {
        let keyring = self.keyring()?;
        let mut by_pk = HashMap::with_capacity(identifiers.len());
        for key in identifiers {
            let blinded = keyring.blind(tenant.as_str(), &key.to_string()).await?;
            by_pk.insert(opt_out_pk(tenant.as_str(), &blinded), key);
        }
        let lookups = by_pk
            .keys()
            .map(|pk| item([("pk", s(pk)), ("sk", s(OPT_OUT_SK))]))
            .collect::<Vec<_>>();
        let found = self
            .batch_get("BatchGetItem opt-outs", lookups, now)
            .await?;
        Ok(found
            .iter()
            .filter_map(|it| {
                let key = by_pk.get(get_s(it, "pk")?)?;
                Some(((*key).clone(), consent_state_of(it)))
            })
            .collect())
    }

    /// A page of the contact's ledger, newest first.
    pub async fn consent_entries(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        limit: i32,
        after: Option<&Cursor>,
        now: i64,
    ) -> Result<ConsentPage, StoreError> {
        let page = self
            .query(
                "Query consent ledger",
                "pk = :pk AND begins_with(sk, :prefix)",
            )
            .value(":pk", s(contact_pk(tenant.as_str(), contact_id)))
            .value(":prefix", s(CONSENT_PREFIX))
            .backwards()
            .limit(limit)
            .after(after)
            .page()
            .await?;
        Ok(ConsentPage {
            entries: page
                .items
                .iter()
                .filter(|it| crate::store::is_live(it, now))
                .filter_map(entry_of)
                .collect(),
            next: page.next,
        })
    }
}

impl ContactStore {
    /// Rewrites consent evidence written as a raw wamid (before wamids were blinded) as the
    /// id of the message it names, on a profile or a ledger line of `contact_id`; true when
    /// rewritten. Only while it still holds that wamid: a newer choice wins.
    pub async fn rewrite_wamid_evidence(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        it: &Item,
    ) -> Result<bool, StoreError> {
        let (Some(pk), Some(sk)) = (get_s(it, "pk"), get_s(it, "sk")) else {
            return Ok(false);
        };
        // (evidence attribute, the time of the message it names)
        let places: Vec<(String, String)> = if sk == PROFILE_SK {
            [Scope::Marketing, Scope::All]
                .iter()
                .map(|scope| {
                    let names = ScopeNames::of(*scope);
                    (names.evidence, names.changed_at)
                })
                .collect()
        } else if sk.starts_with(CONSENT_PREFIX) {
            vec![("evidence".to_owned(), "at".to_owned())]
        } else {
            return Ok(false);
        };
        let keyring = self.keyring()?;
        let mut rewritten = false;
        for (evidence, at) in places {
            let (Some(wamid), Some(at)) = (
                get_s(it, &evidence).filter(|e| e.starts_with(RAW_WAMID_MARK)),
                get_i64(it, &at),
            ) else {
                continue;
            };
            let blinded = keyring.blind_wamid(tenant.as_str(), wamid).await?;
            let id = MessageId::inbound(contact_id, at, &blinded).encode();
            rewritten |= self
                .update("UpdateItem consent evidence", pk.into(), sk.into())
                .set(&evidence, s(id))
                .condition("#evidence = :raw")
                .name("#evidence", &evidence)
                .value(":raw", s(wamid))
                .send()
                .await?;
        }
        Ok(rewritten)
    }

    /// Takes the source and evidence off an identifier's opt-out item written before it
    /// kept the scope and time alone; true when it held any.
    pub async fn strip_kept_opt_out(&self, it: &Item) -> Result<bool, StoreError> {
        let (Some(pk), Some(OPT_OUT_SK)) = (get_s(it, "pk"), get_s(it, "sk")) else {
            return Ok(false);
        };
        let extra: Vec<String> = [Scope::Marketing, Scope::All]
            .iter()
            .flat_map(|scope| {
                let names = ScopeNames::of(*scope);
                [names.source, names.evidence]
            })
            .filter(|name| it.contains_key(name))
            .collect();
        if extra.is_empty() {
            return Ok(false);
        }
        let mut update = self.update(
            "UpdateItem kept opt-out stripped",
            pk.into(),
            OPT_OUT_SK.into(),
        );
        for name in &extra {
            update = update.remove(name);
        }
        update.condition("attribute_exists(pk)").send().await
    }
}

/// The attributes of an identifier's opt-out item written before it kept scope and time
/// alone, for the sealing pass's filter.
pub const KEPT_EXTRA_ATTRIBUTES: [&str; 4] = [
    "marketing_source",
    "marketing_evidence",
    "all_source",
    "all_evidence",
];

/// Which item a consent state is written on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// The contact's profile: the whole state, with its source and evidence.
    Profile,
    /// An identifier's opt-out item, which outlives the contact: scope and time only.
    Identifier,
}

/// The placeholders of the condition that orders entries by time.
fn order_by_time<'a>(update: Update<'a>, names: &ScopeNames, at: i64) -> Update<'a> {
    update
        .name("#seen", &names.seen_at)
        .name("#changed", &names.changed_at)
        .value(":at", n(at))
}

/// The key of the opt-out item of an identifier's blind index, to read it.
pub(crate) fn opt_out_lookup(tenant: &TenantId, blinded: &str) -> Item {
    item([
        ("pk", s(opt_out_pk(tenant.as_str(), blinded))),
        ("sk", s(OPT_OUT_SK)),
    ])
}

/// The state's attributes as a new item (a profile made for someone who opted out before).
pub(crate) fn consent_attrs(state: &ConsentState) -> Vec<(String, AttributeValue)> {
    let mut attrs = Vec::new();
    for scope in [Scope::Marketing, Scope::All] {
        let Some(mark) = state.mark(scope) else {
            continue;
        };
        let names = ScopeNames::of(scope);
        attrs.push((names.opted_out, bool_attr(mark.opted_out)));
        attrs.push((names.changed_at, n(mark.at)));
        attrs.push((names.seen_at, n(mark.at)));
        if let Some(source) = mark.source {
            attrs.push((names.source, s(source.as_str())));
        }
        if let Some(evidence) = &mark.evidence {
            attrs.push((names.evidence, s(evidence)));
        }
    }
    attrs
}

/// The state an item (profile or identifier opt-out) holds. A profile written before the
/// ledger has `marketing_opt_out` and `marketing_changed_at` only: Meta's choice. An
/// identifier's item holds no source: what it kept has none.
pub(crate) fn consent_state_of(it: &Item) -> ConsentState {
    let kept = get_s(it, "sk") == Some(OPT_OUT_SK);
    let mark = |scope: Scope| {
        let names = ScopeNames::of(scope);
        let opted_out = get_bool(it, &names.opted_out)?;
        // An identifier's item written before it kept scope and time alone may still hold
        // a source and evidence: neither is taken from it.
        let own = |name: &str| get_s(it, name).filter(|_| !kept);
        let source = own(&names.source).and_then(Source::parse);
        let before_ledger = scope == Scope::Marketing && !kept;
        Some(ConsentMark {
            opted_out,
            at: get_i64(it, &names.changed_at).unwrap_or(0),
            source: source.or(before_ledger.then_some(Source::Meta)),
            evidence: own(&names.evidence).map(str::to_owned),
        })
    };
    ConsentState {
        marketing: mark(Scope::Marketing),
        all: mark(Scope::All),
    }
}

/// The ledger line's attribute that says which door its event came through, when it was
/// the tenant's own Meta app.
const VIA: &str = "via";
const TENANT_APP: &str = "tenant_app";

fn entry_of(it: &Item) -> Option<ConsentEntry> {
    Some(ConsentEntry {
        scope: Scope::parse(get_s(it, "scope")?)?,
        action: Action::parse(get_s(it, "action")?)?,
        source: Source::parse(get_s(it, "source")?)?,
        evidence: get_s(it, "evidence").map(str::to_owned),
        at: get_i64(it, "at")?,
        via_tenant_app: get_s(it, VIA) == Some(TENANT_APP),
    })
}

/// One scope's attribute names.
struct ScopeNames {
    opted_out: String,
    changed_at: String,
    seen_at: String,
    source: String,
    evidence: String,
}

impl ScopeNames {
    fn of(scope: Scope) -> Self {
        let p = scope.as_str();
        Self {
            opted_out: format!("{p}_opt_out"),
            changed_at: format!("{p}_changed_at"),
            seen_at: format!("{p}_seen_at"),
            source: format!("{p}_source"),
            evidence: format!("{p}_evidence"),
        }
    }
}

/// A ledger line's sooner end under `retention`, counted from its time.
pub fn ageing(it: &Item, retention: &Retention) -> Option<Ageing> {
    let stored = get_i64(it, EXPIRES_AT)?;
    Ageing::end(retention.shortened_end(DataClass::ContactProfile, get_i64(it, "at")?, stored))
}

/// A contact's consent choices and the opt-outs kept for a person's identifiers.
pub trait ConsentRecords: Send + Sync {
    /// Records `entry` for the contact: the ledger line, the contact's state and its
    /// identifiers' opt-out items. `expires_at`: the ledger line's end (the contact class's
    /// retention from now); the state lives as long as the profile, the identifiers' items
    /// until the person opts back in or the tenant is deleted.
    fn record_consent(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        identifiers: &[IdentityKey],
        entry: &ConsentEntry,
        expires_at: i64,
    ) -> impl Future<Output = Result<Recorded, StoreError>> + Send;

    /// The opt-outs kept for the person's identifiers beyond any contact (the latest per
    /// scope): what a contact made for them starts with.
    fn identifier_opt_outs(
        &self,
        tenant: &TenantId,
        identity: &crate::domain::identity::UserIdentity,
        now: i64,
    ) -> impl Future<Output = Result<ConsentState, StoreError>> + Send;
}

impl ConsentRecords for ContactStore {
    async fn record_consent(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        identifiers: &[IdentityKey],
        entry: &ConsentEntry,
        expires_at: i64,
    ) -> Result<Recorded, StoreError> {
        let pk = contact_pk(tenant.as_str(), contact_id);
        let mut line = item([
            ("pk", s(&pk)),
            ("sk", s(consent_sk(entry.at, &entry.id()))),
            ("scope", s(entry.scope.as_str())),
            ("action", s(entry.action.as_str())),
            ("source", s(entry.source.as_str())),
            ("at", n(entry.at)),
            (EXPIRES_AT, n(expires_at)),
        ]);
        if let Some(evidence) = &entry.evidence {
            line.insert("evidence".into(), s(evidence));
        }
        if entry.via_tenant_app {
            line.insert(VIA.into(), s(TENANT_APP));
        }
        let duplicate = self.put_new("PutItem consent entry", line).await? == PutOutcome::Duplicate;
        let mut state = None;
        for scope in entry.scopes_changed() {
            let moved = self
                .move_consent(
                    pk.clone(),
                    PROFILE_SK.into(),
                    *scope,
                    entry,
                    Holder::Profile,
                )
                .await?;
            if moved.is_some() {
                state = moved;
            }
        }
        // What outlives the contact is lifted by the person alone: an opt-in the business
        // records (with or without a reference) leaves it, so that whoever writes from the
        // identifier after the contact is gone, or erased, starts opted out still. So does
        // one that came through the tenant's own Meta app, whose signing secret the tenant
        // holds: it may be the person's, but the gateway cannot tell.
        let persons_own = entry.source.is_the_persons() && !entry.via_tenant_app;
        let identifiers = match (entry.action, persons_own) {
            (Action::OptIn, false) => &[][..],
            _ => identifiers,
        };
        let keyring = self.keyring()?;
        for key in identifiers {
            let blinded = keyring.blind(tenant.as_str(), &key.to_string()).await?;
            for scope in entry.scopes_changed() {
                self.move_consent(
                    opt_out_pk(tenant.as_str(), &blinded),
                    OPT_OUT_SK.into(),
                    *scope,
                    entry,
                    Holder::Identifier,
                )
                .await?;
            }
        }
        let state = match state {
            Some(item) => consent_state_of(&item),
            // Nothing moved (a repeat, or an older entry): the state as it stands.
            None => self
                .get_consistent(pk, PROFILE_SK.into())
                .await?
                .map(|it| consent_state_of(&it))
                .unwrap_or_default(),
        };
        // On a repeat too: a call that failed before this left the cards as they were.
        self.repo::<ConversationStore>()
            .refresh_cards(tenant, contact_id)
            .await?;
        Ok(Recorded { duplicate, state })
    }

    async fn identifier_opt_outs(
        &self,
        tenant: &TenantId,
        identity: &crate::domain::identity::UserIdentity,
        now: i64,
    ) -> Result<ConsentState, StoreError> {
        self.opt_outs_of(tenant, &identity.keys(), now).await
    }
}
