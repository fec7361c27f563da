//! Headless Chromium (Debian's chromium + chromium-driver) driven through WebDriver.

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct Browser {
    pub client: Client,
    pub base: String,
    shots: PathBuf,
    step: usize,
    driver: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium; fails with a clear message when the
    /// Debian packages are missing (README: `apt-get install chromium chromium-driver`).
    pub async fn start(base: &str, test: &str) -> Browser {
        let driver_bin = std::env::var("KYOYU_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {driver_bin} ({e}); install Debian's chromium and chromium-driver")
            });
        let mut caps = serde_json::Map::new();
        let chromium = std::env::var("KYOYU_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1800", "--lang=ja"],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut client = None;
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
        let client = client.expect("chromedriver did not answer");
        Browser { client, base: base.to_string(), shots: super::artefacts(test), step: 0, driver }
    }

    pub async fn open(&self, path: &str) {
        self.client.goto(&format!("{}{}", self.base, path)).await.unwrap();
    }

    pub async fn shot(&mut self, name: &str) {
        self.step += 1;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{:02}-{name}.png", self.step)), png).unwrap();
    }

    pub async fn login(&mut self, login: &str, password: &str) {
        self.open("/login").await;
        self.fill("input[name=login]", login).await;
        self.fill("input[name=password]", password).await;
        self.submit("form[action='/login'] button[type=submit]").await;
        for _ in 0..50 {
            if !self.path().await.starts_with("/login") {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("log-in as {login} failed: {}", self.source().await);
    }

    pub async fn logout(&mut self) {
        self.open("/").await;
        self.submit("form[action='/logout'] button").await;
    }

    /// Finds an element, waiting up to 5 s for the page that shows it to load.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        for _ in 0..50 {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no {css} on {}: {}", self.path().await, self.source().await)
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    /// Sets an input's value directly (date-time inputs take typed keys by locale).
    pub async fn set_value(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        self.client
            .execute("arguments[0].value = arguments[1];", vec![serde_json::to_value(e).unwrap(), value.into()])
            .await
            .unwrap();
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        e.click().await.unwrap();
    }

    /// Clicks something that loads a new page, and waits until the old page is gone, so the
    /// next look finds the new page's elements.
    pub async fn submit(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.click(css).await;
        for _ in 0..100 {
            if old.tag_name().await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("clicking {css} loaded no new page");
    }

    /// Resizes the window so the page's layout viewport is `width` CSS pixels wide.
    pub async fn viewport(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
        // The window includes its frame; grow it until the page itself is `width` wide.
        let inner: i64 = self.client.execute("return window.innerWidth", vec![]).await.unwrap().as_i64().unwrap();
        let frame = width as i64 - inner;
        if frame != 0 {
            self.client.set_window_size((width as i64 + frame) as u32, height).await.unwrap();
        }
    }

    /// How far the page reaches sideways, and the elements that reach past `width`.
    pub async fn overflow(&self, width: u32) -> (i64, Vec<String>) {
        let script = "const w = arguments[0];
            const wide = [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > w + 0.5)
              .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ' + Math.round(e.getBoundingClientRect().right))
              .slice(0, 10);
            return [document.documentElement.scrollWidth, wide];";
        let v = self.client.execute(script, vec![width.into()]).await.unwrap();
        let scroll = v[0].as_i64().unwrap();
        let wide = v[1].as_array().unwrap().iter().map(|x| x.as_str().unwrap_or("").to_string()).collect();
        (scroll, wide)
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
