//! Live progress: the subscription root. Events carry ids only; each one is read again as the
//! subscriber, in a transaction of its own, so roles are checked when it is delivered and
//! nothing of another space can show. A subscription ends when its token expires, when its
//! person is disabled (checked at each event and every [`RECHECK`]), and when it falls behind.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::futures_util::Stream;
use async_graphql::futures_util::stream;
use async_graphql::{Context, ID, Subscription as GqlSubscription};
use spaces_tenants::auth::tokens::{Bearer, unix_now};
use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::progress::Progressed;
use spaces_tenants::{EditionId, PersonId, Principal, TenantId, enrolments, people};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::error::{ApiError, ApiResult, parse_id};
use crate::scope::RequestScope;
use crate::types::enrolment::{EnrolmentGql, Wants, hydrate};

/// How often a quiet subscription checks that its person may still listen.
pub const RECHECK: Duration = Duration::from_secs(30);

/// Where subscriptions hear of progress; the gateway implements it (in process, or fed from
/// Redis). A receiver is bounded: one that falls behind gets `Lagged` and its subscription ends.
#[async_trait::async_trait]
pub trait LiveFeed: Send + Sync {
    fn subscribe(&self, tenant: TenantId) -> broadcast::Receiver<Progressed>;
    /// Announces what a committed transaction moved (to every gateway of the space). Never
    /// fails: live progress is a courtesy on top of what is stored.
    async fn publish(&self, tenant: TenantId, events: &[Progressed]);
}

#[derive(Default)]
pub struct Subscription;

// `Subscription` already names a seat subscription (billing).
#[GqlSubscription(name = "SubscriptionRoot")]
impl Subscription {
    /// An enrolment of this edition each time statements move its progress, among the people
    /// the caller follows (HR, managers, admins).
    async fn enrolment_progressed(
        &self,
        ctx: &Context<'_>,
        edition_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<EnrolmentGql>> + use<>>
    {
        let scope = scope_of(ctx)?;
        let edition: EditionId = parse_id("editionId", &edition_id)?;
        let rx = scope.deps.live.subscribe(scope.space()?.id);
        // Refused now, as the query `editionEnrolments` would refuse it.
        let checked = async {
            let who = scope.require_person()?;
            let tx = scope.tx().await?;
            let first = PageRequest::parse(Some(1), None)?;
            enrolments::of_edition(&tx, who, edition, None, None, first, false).await?;
            ApiResult::Ok(())
        }
        .await;
        scope.finish().await?;
        checked?;
        Ok(listen(scope, rx, Only::Edition(edition))?)
    }

    /// The caller's own enrolments each time statements move their progress.
    async fn my_progress(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<EnrolmentGql>> + use<>>
    {
        let scope = scope_of(ctx)?;
        let (_, me) = scope
            .require_person()?
            .person()
            .ok_or_else(|| ApiError::unauthenticated("sign in to this space first"))?;
        let rx = scope.deps.live.subscribe(scope.space()?.id);
        Ok(listen(scope, rx, Only::Person(me))?)
    }
}

fn scope_of(ctx: &Context<'_>) -> ApiResult<Arc<RequestScope>> {
    ctx.data_opt::<Arc<RequestScope>>()
        .cloned()
        .ok_or_else(|| ApiError::bad_input("query", "subscriptions are served over a WebSocket"))
}

#[derive(Clone, Copy)]
enum Only {
    Edition(EditionId),
    Person(PersonId),
}

impl Only {
    fn takes(self, e: &Progressed) -> bool {
        match self {
            Only::Edition(ed) => e.edition == ed,
            Only::Person(p) => e.person == p,
        }
    }
}

struct Listener {
    scope: Arc<RequestScope>,
    rx: broadcast::Receiver<Progressed>,
    only: Only,
    person: PersonId,
    version: i32,
    expires: tokio::time::Instant,
    recheck: tokio::time::Interval,
    ended: bool,
}

fn listen(
    scope: Arc<RequestScope>,
    rx: broadcast::Receiver<Progressed>,
    only: Only,
) -> ApiResult<impl Stream<Item = async_graphql::Result<EnrolmentGql>>> {
    let Some((
        Bearer::Person {
            person, version, ..
        },
        exp,
    )) = scope.bearer
    else {
        return Err(ApiError::unauthenticated("sign in to this space first"));
    };
    let left = Duration::from_secs(exp.saturating_sub(unix_now()));
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    recheck.reset();
    let l = Listener {
        scope,
        rx,
        only,
        person,
        version,
        expires: tokio::time::Instant::now() + left,
        recheck,
        ended: false,
    };
    Ok(stream::unfold(l, |mut l| async move {
        let item = l.next().await?;
        Some((item.map_err(Into::into), l))
    }))
}

impl Listener {
    /// The next enrolment to show, an error that ends the subscription, or its end.
    async fn next(&mut self) -> Option<ApiResult<EnrolmentGql>> {
        if self.ended {
            return None;
        }
        let item = self.wait().await;
        // What the delivery read ends here, so no connection is held while waiting.
        let finished = self.scope.finish().await;
        match (item, finished) {
            (Some(Ok(v)), Ok(())) => Some(Ok(v)),
            (Some(Err(e)), _) | (Some(Ok(_)), Err(e)) => {
                self.ended = true;
                Some(Err(e))
            }
            (None, _) => None,
        }
    }

    async fn wait(&mut self) -> Option<ApiResult<EnrolmentGql>> {
        loop {
            let got = tokio::select! {
                r = self.rx.recv() => r,
                () = tokio::time::sleep_until(self.expires) => {
                    return Some(Err(ApiError::unauthenticated(
                        "the token expired: subscribe again with a new one",
                    )));
                }
                _ = self.recheck.tick() => {
                    let still = self.principal().await.map(|_| ());
                    if let Err(e) = self.scope.finish().await.and(still) {
                        return Some(Err(e));
                    }
                    continue;
                }
            };
            match got {
                Ok(e) if self.only.takes(&e) => match self.deliver(e).await {
                    Ok(Some(v)) => return Some(Ok(v)),
                    Ok(None) => {
                        if let Err(e) = self.scope.finish().await {
                            return Some(Err(e));
                        }
                    }
                    Err(e) => return Some(Err(e)),
                },
                Ok(_) => {}
                // Bounded: a subscriber that cannot keep up is dropped, never buffered for.
                Err(RecvError::Lagged(n)) => {
                    return Some(Err(ApiError::new(
                        "SLOW_SUBSCRIBER",
                        format!(
                            "this subscription fell {n} events behind and was ended; subscribe again"
                        ),
                    )));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The subscriber as they are now: a disabled person or a changed password ends it.
    async fn principal(&self) -> ApiResult<Principal> {
        let tx = self.scope.tx().await?;
        let (who, _) = people::load_principal(&tx, self.person, self.version).await?;
        Ok(who)
    }

    /// The enrolment as the subscriber may see it now; `None` when they may not.
    async fn deliver(&self, e: Progressed) -> ApiResult<Option<EnrolmentGql>> {
        let who = self.principal().await?;
        let tx = self.scope.tx().await?;
        let found = match enrolments::get(&tx, &who, e.enrolment).await {
            Ok(found) => found,
            Err(err) => {
                let err = ApiError::from(err);
                if matches!(err.code, "NOT_FOUND" | "FORBIDDEN") {
                    return Ok(None);
                }
                return Err(err);
            }
        };
        Ok(hydrate(&tx, vec![found], Wants::ALL).await?.pop())
    }
}
