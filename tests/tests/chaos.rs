//! Workers killed under load: while users write in (every delivery posted twice, as Meta
//! retries) and templates go out, the inbound worker, one outbound worker and the callbacks
//! worker are each killed once with SIGKILL at a random moment; the stack's supervisors
//! start them again, and its event source mappings give up on the dead invocations after
//! the function's timeout. Afterwards every inbound message is stored exactly once, every
//! send reached the simulator exactly once, every callback was delivered at least once,
//! and no dead-letter queue holds anything of the test's.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wagate_messaging::access::Role;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits, wamid, with_sk_prefix};

const USERS: usize = 20;
const MESSAGES: usize = 200;
const SENDS: usize = 100;
const DRAIN: Duration = Duration::from_secs(300);

/// A callback receiver on loopback: answers 200 and keeps each event id it got.
async fn receiver() -> (String, Arc<Mutex<HashSet<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let ids = Arc::new(Mutex::new(HashSet::new()));
    let seen = ids.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 8192];
                loop {
                    let Ok(n) = socket.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&request);
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let headers = &text[..end];
                    let length = header(headers, "content-length")
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() < end + 4 + length {
                        continue;
                    }
                    if let Some(id) = header(headers, "wagate-event-id") {
                        seen.lock().unwrap().insert(id);
                    }
                    let _ = socket
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                    return;
                }
            });
        }
    });
    (url, ids)
}

fn header(headers: &str, name: &str) -> Option<String> {
    headers.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// The running process of a supervised function (`inbound`, `outbound-3`, `callbacks`).
fn pid_of(process: &str) -> u32 {
    let dir = std::env::var("STACK_DIR").expect("STACK_DIR: the stack writes it to stack.env");
    std::fs::read_to_string(format!("{dir}/pids.d/{process}.pid"))
        .unwrap_or_else(|e| panic!("{process}'s pid: {e}"))
        .trim()
        .parse()
        .unwrap()
}

/// SIGKILLs the process and waits until its supervisor has started another.
async fn kill_and_wait_for_restart(process: &str) {
    let pid = pid_of(process);
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success(), "kill -9 {pid} ({process})");
    eventually(Duration::from_secs(30), "the restarted process", || async {
        (pid_of(process) != pid).then_some(())
    })
    .await;
}

/// Messages of the DLQ at `url` that mention `marker`, left in the queue.
async fn dead_letters(stack: &Stack, url: &str, marker: &str) -> usize {
    let mut seen = HashMap::new();
    for _ in 0..5 {
        let out = stack
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            if let (Some(id), Some(body)) = (m.message_id(), m.body()) {
                seen.insert(id.to_owned(), body.to_owned());
            }
        }
    }
    seen.values().filter(|b| b.contains(marker)).count()
}

#[tokio::test]
async fn killed_workers_lose_nothing_and_double_nothing() {
    let stack = Stack::connect().await;
    let tenant = Arc::new(TestTenant::create(&stack).await);
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let (hook, delivered) = receiver().await;
    let (status, body) = stack
        .api(
            Method::POST,
            "/v1/callbacks",
            Some(&admin),
            Some(json!({"url": hook, "events": ["message.received"]})),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let users: Vec<String> = (0..USERS)
        .map(|_| format!("4915{}", random_digits(9)))
        .collect();
    let deliveries: Vec<String> = (0..MESSAGES)
        .map(|i| tenant.text_from(&users[i % USERS], &wamid(), now(), &format!("message {i}")))
        .collect();
    let sends = tenant.template_campaign(SENDS);
    let recipients: HashSet<String> = sends.iter().map(|job| job.to().to_owned()).collect();

    // When each worker dies: at a random point of the load, one in each third.
    let mut rng = rand::rng();
    let kill_at = [
        ("inbound", rng.random_range(MESSAGES / 10..MESSAGES / 3)),
        (
            "outbound-3",
            rng.random_range(MESSAGES / 3..2 * MESSAGES / 3),
        ),
        ("callbacks", rng.random_range(2 * MESSAGES / 3..MESSAGES)),
    ];
    let started = Instant::now();
    let mut sent_jobs = sends.iter();
    for (i, delivery) in deliveries.iter().enumerate() {
        // Each delivery twice, as Meta's retries do, and a send between them.
        for _ in 0..2 {
            let (status, answer) = stack.post_signed(delivery).await;
            assert_eq!(status, 200, "{answer}");
        }
        if let Some(job) = sent_jobs.next() {
            stack
                .outbound
                .enqueue_jobs(std::slice::from_ref(job))
                .await
                .unwrap();
        }
        for (process, at) in kill_at {
            if at == i {
                kill_and_wait_for_restart(process).await;
            }
        }
    }
    let loaded = started.elapsed();

    // Every message stored once.
    eventually(DRAIN, "every message stored", || async {
        let items = stack.tenant_items(tenant.id.as_str()).await;
        let stored = with_sk_prefix(&items, "MSG#")
            .iter()
            .filter(|it| wagate_tests::text(it, "direction") == Some("in"))
            .count();
        (stored >= MESSAGES).then_some(())
    })
    .await;
    // Every send at Meta once.
    eventually(DRAIN, "every send at the simulator", || async {
        let received = tenant.sim_received(&stack).await;
        let accepted = received.iter().filter(|r| r["wamid"].is_string()).count();
        (accepted >= SENDS).then_some(())
    })
    .await;
    // Every callback delivered.
    eventually(DRAIN, "every callback delivered", || async {
        (delivered.lock().unwrap().len() >= MESSAGES).then_some(())
    })
    .await;
    let drained = started.elapsed();

    // Nothing arrives twice, even a while later.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let inbound: Vec<_> = with_sk_prefix(&items, "MSG#")
        .into_iter()
        .filter(|it| wagate_tests::text(it, "direction") == Some("in"))
        .collect();
    // Each message's key holds its wamid's blind index: one key per wamid.
    let wamids: HashSet<&str> = inbound
        .iter()
        .filter_map(|it| wagate_tests::text(it, "sk"))
        .collect();
    assert_eq!(inbound.len(), MESSAGES, "messages stored");
    assert_eq!(wamids.len(), MESSAGES, "each message stored once");
    let received = tenant.sim_received(&stack).await;
    let mut sent_to: HashMap<String, usize> = HashMap::new();
    for r in received.iter().filter(|r| r["wamid"].is_string()) {
        *sent_to
            .entry(r["to"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    assert_eq!(
        sent_to.keys().cloned().collect::<HashSet<_>>(),
        recipients,
        "every recipient was sent to"
    );
    let twice: Vec<_> = sent_to.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(
        delivered.lock().unwrap().len(),
        MESSAGES,
        "callbacks delivered"
    );

    let marker = tenant.id.as_str();
    for (queue, name) in [
        ("INBOUND_DLQ_URL", "inbound"),
        ("OUTBOUND_DLQ_URL", "outbound"),
        ("CALLBACK_DLQ_URL", "callback"),
    ] {
        let url = std::env::var(queue).unwrap();
        assert_eq!(
            dead_letters(&stack, &url, marker).await,
            0,
            "the {name} dead-letter queue holds the test's records"
        );
    }
    eprintln!(
        "chaos: {} deliveries ({MESSAGES} messages, each posted twice), {SENDS} sends, 3 workers killed \
         (inbound at message {}, outbound-3 at {}, callbacks at {}); load {:.1} s, drained {:.1} s after the start",
        2 * MESSAGES,
        kill_at[0].1,
        kill_at[1].1,
        kill_at[2].1,
        loaded.as_secs_f64(),
        drained.as_secs_f64()
    );
}
