//! Opt-out and opt-in keywords: a message is one when the whole of it, trimmed, with case,
//! accents and surrounding punctuation aside, is one of the tenant's words. The defaults
//! cover nine languages; the language of the word that matched is the language the
//! acknowledgement is written in.
//!
//! A tenant cannot switch opt-outs off: each language's default opt-out words are a
//! baseline that always applies, to which a tenant adds its own. Its opt-in words replace
//! the defaults, but none may be an ordinary reply ([`is_common_reply`]): someone who
//! writes "ok" or "yes" has not asked to be messaged again.

use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::Action;

/// The languages with default keywords and acknowledgements, in the order a word found in
/// two of them is attributed (`CANCELAR` is Spanish before Portuguese).
pub const LANGUAGES: [&str; 9] = ["en", "es", "pt", "fr", "de", "it", "hi", "ar", "id"];

/// A keyword longer than this is not a keyword people type.
pub const MAX_KEYWORD_CHARS: usize = 40;
/// Keywords per language and action at most.
pub const MAX_KEYWORDS: usize = 30;

/// The default opt-out words of `language`.
pub fn default_opt_out(language: &str) -> &'static [&'static str] {
    match language {
        "en" => &[
            "STOP",
            "STOP ALL",
            "UNSUBSCRIBE",
            "OPT OUT",
            "OPT-OUT",
            "OPTOUT",
        ],
        "es" => &[
            "PARAR",
            "DETENER",
            "BAJA",
            "DARSE DE BAJA",
            "CANCELAR",
            "CANCELAR SUSCRIPCIÓN",
        ],
        "pt" => &[
            "PARAR",
            "SAIR",
            "CANCELAR",
            "DESCADASTRAR",
            "CANCELAR INSCRIÇÃO",
        ],
        "fr" => &[
            "ARRÊT",
            "ARRÊTER",
            "DÉSABONNER",
            "DÉSINSCRIPTION",
            "DÉSINSCRIRE",
        ],
        "de" => &["STOPP", "ABMELDEN", "ABBESTELLEN", "ABMELDUNG"],
        "it" => &[
            "FERMA",
            "BASTA",
            "DISISCRIVITI",
            "ANNULLA ISCRIZIONE",
            "CANCELLAMI",
        ],
        "hi" => &[
            "BAND",
            "BAND KARO",
            "BAND KAREN",
            "ROKO",
            "बंद",
            "बंद करो",
            "बंद करें",
            "रोको",
            "रोकें",
        ],
        "ar" => &["إيقاف", "توقف", "أوقف", "إلغاء الاشتراك", "الغاء"],
        "id" => &[
            "BERHENTI",
            "HENTIKAN",
            "BERHENTI LANGGANAN",
            "BATALKAN LANGGANAN",
        ],
        _ => &[],
    }
}

/// The default opt-in (resume) words of `language`.
pub fn default_opt_in(language: &str) -> &'static [&'static str] {
    match language {
        "en" => &[
            "START",
            "UNSTOP",
            "SUBSCRIBE",
            "RESUME",
            "OPT IN",
            "OPT-IN",
            "OPTIN",
        ],
        "es" => &["ALTA", "REANUDAR", "SUSCRIBIRME", "COMENZAR"],
        "pt" => &["VOLTAR", "RETOMAR", "INSCREVER", "COMEÇAR"],
        "fr" => &["REPRENDRE", "ABONNER", "DÉMARRER"],
        "de" => &["ANMELDEN", "FORTSETZEN", "STARTEN"],
        "it" => &["RIPRENDI", "ISCRIVIMI", "INIZIA"],
        "hi" => &["SHURU", "SHURU KARO", "CHALU", "शुरू", "शुरू करो", "चालू"],
        "ar" => &["ابدأ", "استئناف", "اشتراك"],
        "id" => &["MULAI", "LANJUTKAN", "BERLANGGANAN"],
        _ => &[],
    }
}

/// The default acknowledgement of an opt-out, in `language`.
pub fn default_acknowledgement(language: &str) -> &'static str {
    match language {
        "es" => {
            "Has cancelado la suscripción: no te enviaremos más mensajes. Responde ALTA para volver a suscribirte."
        }
        "pt" => {
            "Sua inscrição foi cancelada: não enviaremos mais mensagens. Responda VOLTAR para se inscrever de novo."
        }
        "fr" => {
            "Vous êtes désinscrit : nous ne vous enverrons plus de messages. Répondez REPRENDRE pour vous réinscrire."
        }
        "de" => {
            "Sie sind abgemeldet und erhalten keine Nachrichten mehr von uns. Antworten Sie ANMELDEN, um sich wieder anzumelden."
        }
        "it" => {
            "Sei stato disiscritto: non ti invieremo altri messaggi. Rispondi RIPRENDI per iscriverti di nuovo."
        }
        "hi" => "आपकी सदस्यता रद्द कर दी गई है: हम आपको और संदेश नहीं भेजेंगे। फिर से जुड़ने के लिए शुरू लिखें।",
        "ar" => "تم إلغاء اشتراكك ولن نرسل لك المزيد من الرسائل. أرسل ابدأ للاشتراك مجددًا.",
        "id" => {
            "Anda telah berhenti berlangganan dan tidak akan menerima pesan lagi dari kami. Balas MULAI untuk berlangganan lagi."
        }
        _ => {
            "You have unsubscribed and will get no more messages from us. Reply START to subscribe again."
        }
    }
}

/// Ordinary replies in each language: what people write to a business all the time without
/// meaning to opt back in, so none may be an opt-in word. Compared normalised.
const COMMON_REPLIES: [&str; 140] = [
    // Short answers and digits (menu choices).
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "y",
    "n",
    "k",
    "ok",
    "okay",
    "okey",
    "oki",
    "kk",
    // en
    "yes",
    "yeah",
    "yep",
    "yup",
    "no",
    "nope",
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank you",
    "thx",
    "ty",
    "sure",
    "good",
    "great",
    "fine",
    "cool",
    "please",
    "bye",
    "done",
    "help",
    "info",
    "menu",
    "agent",
    "why",
    // es
    "si",
    "vale",
    "hola",
    "gracias",
    "bueno",
    "claro",
    "bien",
    "adios",
    "buenas",
    "listo",
    "dale",
    "perfecto",
    "ayuda",
    // pt
    "sim",
    "nao",
    "oi",
    "ola",
    "obrigado",
    "obrigada",
    "valeu",
    "beleza",
    "bom dia",
    "certo",
    "tudo bem",
    "ajuda",
    // fr
    "oui",
    "non",
    "bonjour",
    "salut",
    "merci",
    "d'accord",
    "dac",
    "daccord",
    "bien sur",
    "parfait",
    "aide",
    // de
    "ja",
    "nein",
    "hallo",
    "danke",
    "gut",
    "genau",
    "super",
    "bitte",
    "servus",
    "moin",
    "hilfe",
    // it
    "ciao",
    "grazie",
    "va bene",
    "bene",
    "certo",
    "buongiorno",
    "perfetto",
    "aiuto",
    // hi (Latin and Devanagari)
    "haan",
    "han",
    "ha",
    "nahi",
    "nahin",
    "theek",
    "thik",
    "theek hai",
    "thik hai",
    "namaste",
    "dhanyavad",
    "shukriya",
    "हाँ",
    "हां",
    "नहीं",
    "ठीक",
    "ठीक है",
    "नमस्ते",
    "धन्यवाद",
    "शुक्रिया",
    // ar
    "نعم",
    "لا",
    "شكرا",
    "مرحبا",
    "اهلا",
    "حسنا",
    "تمام",
    "ايوه",
    "السلام عليكم",
    // id
    "ya",
    "iya",
    "tidak",
    "tdk",
    "oke",
    "halo",
    "hai",
    "terima kasih",
    "makasih",
    "baik",
    "siap",
    "mantap",
];

/// Whether `word` is an ordinary reply in any of the languages (see [`COMMON_REPLIES`]).
pub fn is_common_reply(word: &str) -> bool {
    let word = normalize(word);
    COMMON_REPLIES
        .iter()
        .any(|common| normalize(common) == word)
}

/// A word as it is compared: decomposed, marks dropped, lower case, inner spaces single,
/// surrounding punctuation and spaces trimmed.
pub fn normalize(text: &str) -> String {
    let folded: String = text
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    let trimmed = folded.trim_matches(|c: char| c.is_whitespace() || is_punctuation(c));
    trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || matches!(c, '¡' | '¿' | '।' | '؟' | '،' | '…' | '。')
}

/// A matched keyword: what it asks for and the language it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordMatch {
    pub action: Action,
    pub language: String,
}

/// The words a tenant listens for, ready to match (normalised once per container).
#[derive(Debug, Clone, Default)]
pub struct KeywordMatcher {
    /// Normalised word → (action, language); the first language listing it wins.
    words: BTreeMap<String, (Action, String)>,
}

impl KeywordMatcher {
    /// From per-language lists: each language's default opt-out words and the tenant's
    /// additions; the tenant's opt-in words if it gave them, else the default, never an
    /// ordinary reply (a list stored before that rule loses those words here).
    pub fn new(
        opt_out: &BTreeMap<String, Vec<String>>,
        opt_in: &BTreeMap<String, Vec<String>>,
    ) -> Self {
        let mut words = BTreeMap::new();
        // Opt-outs first: a word listed both ways stops rather than resumes.
        for language in LANGUAGES {
            let added = opt_out.get(language).into_iter().flatten();
            for word in default_opt_out(language)
                .iter()
                .copied()
                .chain(added.map(String::as_str))
            {
                words
                    .entry(normalize(word))
                    .or_insert_with(|| (Action::OptOut, language.to_owned()));
            }
        }
        for language in LANGUAGES {
            let listed: Vec<&str> = match opt_in.get(language) {
                Some(list) => list.iter().map(String::as_str).collect(),
                None => default_opt_in(language).to_vec(),
            };
            for word in listed.into_iter().filter(|w| !is_common_reply(w)) {
                words
                    .entry(normalize(word))
                    .or_insert_with(|| (Action::OptIn, language.to_owned()));
            }
        }
        Self { words }
    }

    /// The keyword `text` is, if it is one: the whole message, not a word inside it.
    pub fn find(&self, text: &str) -> Option<KeywordMatch> {
        // Longer than any keyword could be: not worth normalising.
        if text.chars().count() > MAX_KEYWORD_CHARS * 2 {
            return None;
        }
        self.words
            .get(&normalize(text))
            .map(|(action, language)| KeywordMatch {
                action: *action,
                language: language.clone(),
            })
    }
}
