use std::collections::BTreeMap;

use super::keywords::{KeywordMatcher, LANGUAGES, default_opt_in, default_opt_out};
use super::*;

fn defaults() -> KeywordMatcher {
    ConsentSettings::default().matcher()
}

#[test]
fn every_default_language_has_words_both_ways_that_match_as_typed() {
    let matcher = defaults();
    for language in LANGUAGES {
        assert!(!default_opt_out(language).is_empty(), "{language}");
        assert!(!default_opt_in(language).is_empty(), "{language}");
        for word in default_opt_out(language) {
            let found = matcher.find(word).expect(word);
            assert_eq!(found.action, Action::OptOut, "{word}");
        }
        for word in default_opt_in(language) {
            assert_eq!(
                matcher.find(word).expect(word).action,
                Action::OptIn,
                "{word}"
            );
        }
    }
}

#[test]
fn case_accents_spaces_and_punctuation_are_set_aside() {
    let matcher = defaults();
    for typed in [
        "stop",
        "  Stop!  ",
        "STOP.",
        "arret",
        "Arrêt",
        "ARRET !",
        "stopp",
        "Unsubscribe",
        "cancelar suscripcion",
        "¡Parar!",
        "ايقاف",
        "बंद करें।",
        "band  karo",
    ] {
        assert_eq!(
            matcher.find(typed).map(|m| m.action),
            Some(Action::OptOut),
            "{typed:?}"
        );
    }
}

#[test]
fn a_keyword_inside_a_sentence_is_not_one() {
    let matcher = defaults();
    for typed in [
        "please stop sending me this",
        "stop it",
        "don't stop",
        "",
        "   ",
        "?",
    ] {
        assert_eq!(matcher.find(typed), None, "{typed:?}");
    }
    assert_eq!(matcher.find(&"stop ".repeat(100)), None);
}

#[test]
fn the_language_of_the_word_is_the_one_that_listed_it_first() {
    let matcher = defaults();
    let language = |w: &str| matcher.find(w).unwrap().language;
    assert_eq!(language("STOP"), "en");
    assert_eq!(language("Parar"), "es");
    assert_eq!(language("sair"), "pt");
    assert_eq!(language("ARRÊT"), "fr");
    assert_eq!(language("Stopp"), "de");
    assert_eq!(language("basta"), "it");
    assert_eq!(language("roko"), "hi");
    assert_eq!(language("रोको"), "hi");
    assert_eq!(language("إيقاف"), "ar");
    assert_eq!(language("berhenti"), "id");
}

#[test]
fn a_tenants_stop_words_add_to_the_baseline_which_no_tenant_removes() {
    // A tenant that tried to switch STOP off by listing a word nobody writes.
    let settings = ConsentSettings {
        opt_out_keywords: BTreeMap::from([("en".into(), vec!["zzqx".into(), "Halt".into()])]),
        ..ConsentSettings::default()
    };
    settings.validate().unwrap();
    let matcher = settings.matcher();
    assert_eq!(matcher.find("halt").map(|m| m.action), Some(Action::OptOut));
    for baseline in ["STOP", "unsubscribe", "PARAR", "Stopp"] {
        assert_eq!(
            matcher.find(baseline).map(|m| m.action),
            Some(Action::OptOut),
            "{baseline} still stops"
        );
    }
}

#[test]
fn a_tenants_opt_in_words_replace_the_defaults_but_never_with_an_ordinary_reply() {
    let settings = ConsentSettings {
        opt_in_keywords: BTreeMap::from([("en".into(), vec!["Rejoin".into()])]),
        ..ConsentSettings::default()
    };
    settings.validate().unwrap();
    let matcher = settings.matcher();
    assert_eq!(
        matcher.find("rejoin").map(|m| m.action),
        Some(Action::OptIn)
    );
    assert_eq!(matcher.find("START"), None, "English defaults replaced");
    assert!(matcher.find("ALTA").is_some(), "Spanish defaults kept");
    // Ordinary replies, in any of the languages, are refused as opt-in words.
    for (language, word) in [
        ("en", "ok"),
        ("en", "Yes"),
        ("en", "hi"),
        ("en", "1"),
        ("es", "Sí"),
        ("pt", "obrigado"),
        ("fr", "Merci !"),
        ("de", "ja"),
        ("it", "grazie"),
        ("hi", "haan"),
        ("hi", "हाँ"),
        ("ar", "نعم"),
        ("id", "iya"),
    ] {
        let settings = ConsentSettings {
            opt_in_keywords: BTreeMap::from([(language.into(), vec![word.into()])]),
            ..ConsentSettings::default()
        };
        let refused = settings.validate().unwrap_err();
        assert!(refused.common_word, "{word}: {refused}");
        // And a list stored before the rule cannot opt anyone in with it.
        assert_eq!(settings.matcher().find(word), None, "{word}");
    }
}

#[test]
fn settings_refuse_unknown_languages_empty_lists_and_oversized_words() {
    let bad = [
        ConsentSettings {
            opt_out_keywords: BTreeMap::from([("xx".into(), vec!["STOP".into()])]),
            ..ConsentSettings::default()
        },
        ConsentSettings {
            opt_in_keywords: BTreeMap::from([("en".into(), vec![])]),
            ..ConsentSettings::default()
        },
        ConsentSettings {
            opt_out_keywords: BTreeMap::from([("en".into(), vec!["!!".into()])]),
            ..ConsentSettings::default()
        },
        ConsentSettings {
            opt_out_keywords: BTreeMap::from([("en".into(), vec!["x".repeat(41)])]),
            ..ConsentSettings::default()
        },
        ConsentSettings {
            acknowledgements: BTreeMap::from([("en".into(), " ".into())]),
            ..ConsentSettings::default()
        },
        ConsentSettings {
            acknowledgements: BTreeMap::from([("klingon".into(), "Qapla'".into())]),
            ..ConsentSettings::default()
        },
        ConsentSettings {
            opt_out_button_payloads: vec![String::new()],
            ..ConsentSettings::default()
        },
    ];
    for settings in bad {
        assert!(settings.validate().is_err(), "{settings:?}");
    }
}

fn entry(scope: Scope, action: Action, at: i64) -> ConsentEntry {
    ConsentEntry {
        scope,
        action,
        source: Source::Keyword,
        evidence: Some(format!("msg.{at}")),
        at,
        via_tenant_app: false,
    }
}

#[test]
fn a_newer_choice_wins_and_a_late_older_one_changes_nothing() {
    let mut state = ConsentState::default();
    state.apply(&entry(Scope::Marketing, Action::OptOut, 100));
    state.apply(&entry(Scope::Marketing, Action::OptIn, 50));
    assert!(state.marketing_opt_out());
    state.apply(&entry(Scope::Marketing, Action::OptIn, 200));
    assert!(!state.marketing_opt_out());
}

#[test]
fn a_second_opt_out_keeps_the_first_so_it_is_acknowledged_once() {
    let mut state = ConsentState::default();
    state.apply(&entry(Scope::All, Action::OptOut, 100));
    state.apply(&entry(Scope::All, Action::OptOut, 300));
    assert_eq!(
        state.all.as_ref().unwrap().evidence.as_deref(),
        Some("msg.100")
    );
}

#[test]
fn an_opt_in_of_all_resumes_marketing_too() {
    let mut state = ConsentState::default();
    state.apply(&entry(Scope::Marketing, Action::OptOut, 100));
    state.apply(&entry(Scope::All, Action::OptOut, 110));
    state.apply(&entry(Scope::All, Action::OptIn, 120));
    assert!(!state.marketing_opt_out());
    assert_eq!(
        state.check(
            Sending::Template { category: None },
            NonMarketingPolicy::Allow
        ),
        Ok(())
    );
}

#[test]
fn the_send_rule_by_scope_category_and_policy() {
    let allow = NonMarketingPolicy::Allow;
    let refuse = NonMarketingPolicy::Refuse;
    let marketing = Sending::Template {
        category: Some(TemplateKind::Marketing),
    };
    let utility = Sending::Template {
        category: Some(TemplateKind::Other),
    };
    let unknown = Sending::Template { category: None };

    let none = ConsentState::default();
    for sending in [marketing, utility, unknown, Sending::Reply] {
        assert!(none.check(sending, refuse).is_ok());
    }

    let mut out_of_marketing = ConsentState::default();
    out_of_marketing.apply(&entry(Scope::Marketing, Action::OptOut, 100));
    let refused = out_of_marketing.check(marketing, allow).unwrap_err();
    assert_eq!(
        (refused.scope, refused.at, refused.origin),
        (Scope::Marketing, 100, Some(Source::Keyword))
    );
    assert!(
        out_of_marketing.check(unknown, allow).is_err(),
        "an unknown template counts as marketing"
    );
    assert!(out_of_marketing.check(utility, allow).is_ok());
    assert!(out_of_marketing.check(Sending::Reply, allow).is_ok());
    assert!(out_of_marketing.check(utility, refuse).is_err());
    assert!(out_of_marketing.check(Sending::Reply, refuse).is_err());
    assert!(out_of_marketing.needs_template_category(allow));
    assert!(!out_of_marketing.needs_template_category(refuse));

    let mut out_of_all = ConsentState::default();
    out_of_all.apply(&entry(Scope::All, Action::OptOut, 100));
    for sending in [marketing, utility, unknown, Sending::Reply] {
        assert_eq!(
            out_of_all.check(sending, allow).unwrap_err().scope,
            Scope::All
        );
    }
    assert!(!out_of_all.needs_template_category(allow));
}

#[test]
fn an_entry_id_is_the_same_for_the_same_choice() {
    let a = entry(Scope::All, Action::OptOut, 100);
    assert_eq!(a.id(), a.clone().id());
    assert_ne!(a.id(), entry(Scope::All, Action::OptOut, 101).id());
}

#[test]
fn settings_read_from_an_empty_object_are_the_defaults() {
    let read: ConsentSettings = serde_json::from_str("{}").unwrap();
    assert_eq!(read, ConsentSettings::default());
    assert!(serde_json::from_str::<ConsentSettings>(r#"{"nope": 1}"#).is_err());
}

#[test]
fn the_business_lifts_the_persons_own_opt_out_only_with_a_reference() {
    let opt_in = |source| ConsentEntry {
        scope: Scope::All,
        action: Action::OptIn,
        source,
        evidence: Some("key:k_1".into()),
        at: 200,
        via_tenant_app: false,
    };
    // The person stopped by keyword, in WhatsApp, or before their contact existed.
    for how in [
        Some(Source::Keyword),
        Some(Source::Button),
        Some(Source::Meta),
        None,
    ] {
        let state = ConsentState {
            all: Some(ConsentMark {
                opted_out: true,
                at: 100,
                source: how,
                evidence: None,
            }),
            ..ConsentState::default()
        };
        for plain in [Source::Api, Source::Import] {
            let refused = state.business_may_record(&opt_in(plain)).unwrap_err();
            assert_eq!((refused.scope, refused.how), (Scope::All, how));
        }
        state
            .business_may_record(&opt_in(Source::Business))
            .unwrap();
    }
    // An opt-out the business recorded, it may lift; and it may always opt someone out.
    let by_business = ConsentState {
        all: Some(ConsentMark {
            opted_out: true,
            at: 100,
            source: Some(Source::Api),
            evidence: None,
        }),
        ..ConsentState::default()
    };
    by_business
        .business_may_record(&opt_in(Source::Api))
        .unwrap();
    let opt_out = ConsentEntry {
        action: Action::OptOut,
        ..opt_in(Source::Api)
    };
    ConsentState::default()
        .business_may_record(&opt_out)
        .unwrap();
    // Resuming `all` resumes marketing too: a marketing stop of the person's refuses it.
    let marketing_stop = ConsentState {
        marketing: Some(ConsentMark {
            opted_out: true,
            at: 100,
            source: Some(Source::Meta),
            evidence: None,
        }),
        ..ConsentState::default()
    };
    assert_eq!(
        marketing_stop
            .business_may_record(&opt_in(Source::Api))
            .unwrap_err()
            .scope,
        Scope::Marketing
    );
}

#[test]
fn the_persons_stop_after_the_businesss_opt_out_makes_the_opt_out_theirs() {
    let by = |source, action, at| ConsentEntry {
        source,
        ..entry(Scope::All, action, at)
    };
    let mut state = ConsentState::default();
    state.apply(&by(Source::Api, Action::OptOut, 100));
    // Their STOP changes no state, but from now on the opt-out is theirs.
    state.apply(&by(Source::Keyword, Action::OptOut, 150));
    let mark = state.all.clone().unwrap();
    assert_eq!((mark.source, mark.at), (Some(Source::Keyword), 150));
    assert!(
        state
            .business_may_record(&by(Source::Api, Action::OptIn, 200))
            .is_err()
    );
    // Even written without asking first, a plain opt-in leaves it.
    state.apply(&by(Source::Import, Action::OptIn, 200));
    assert!(state.marketing_opt_out());
    state.apply(&by(Source::Business, Action::OptIn, 210));
    assert!(!state.marketing_opt_out());
    // A second STOP of theirs still keeps the first, acknowledged once.
    let mut twice = ConsentState::default();
    twice.apply(&by(Source::Keyword, Action::OptOut, 100));
    twice.apply(&by(Source::Meta, Action::OptOut, 150));
    assert_eq!(twice.all.unwrap().at, 100);
}

#[test]
fn a_late_stop_still_wins_over_what_the_businesss_systems_recorded_after_it() {
    let by = |source, action, at| ConsentEntry {
        source,
        ..entry(Scope::All, action, at)
    };
    let mut state = ConsentState::default();
    state.apply(&by(Source::Api, Action::OptIn, 200));
    // The STOP was sent at 150 and reaches the gateway after the opt-in.
    state.apply(&by(Source::Keyword, Action::OptOut, 150));
    assert!(state.marketing_opt_out());
    assert_eq!(state.all.unwrap().source, Some(Source::Keyword));
    // A referenced opt-in after it stands.
    let mut state = ConsentState::default();
    state.apply(&by(Source::Business, Action::OptIn, 200));
    state.apply(&by(Source::Keyword, Action::OptOut, 150));
    assert!(!state.marketing_opt_out());
}
