//! A client that speaks to a running server as any client would, and reads each answer as its
//! view type: a successful answer that does not parse as the type fails the test, so a renamed
//! or missing field shows at once instead of as an empty string.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

/// A refusal: the status and the error body.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: Value,
}

impl Client {
    /// A client of the server at `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Client {
        Client { base: base.trim_end_matches('/').to_string(), http: reqwest::Client::new() }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str, token: &str) -> Result<T, Refused> {
        self.send(self.http.get(self.url(path)).bearer_auth(token)).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        body: &impl Serialize,
    ) -> Result<T, Refused> {
        self.send(self.http.post(self.url(path)).bearer_auth(token).json(body)).await
    }

    pub async fn put<T: DeserializeOwned>(&self, path: &str, token: &str, body: &impl Serialize) -> Result<T, Refused> {
        self.send(self.http.put(self.url(path)).bearer_auth(token).json(body)).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, Refused> {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("an answer body");
        if !(200..300).contains(&status) {
            let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
            return Err(Refused { status, body });
        }
        match serde_json::from_str(&text) {
            Ok(view) => Ok(view),
            Err(e) => panic!("a {status} answer is not a {}: {e}\n{text}", std::any::type_name::<T>()),
        }
    }
}
