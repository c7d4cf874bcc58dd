//! The live rankings: projects for a member, partners for a member, members for a project, and consortia. They are
//! CPU work over the in-memory index, so they run on the blocking pool, not on the server's async workers.

use std::sync::Arc;

use uuid::Uuid;

use super::{AppError, Services};
use crate::domain::member::Scope;
use crate::matching::consortium::{self, Consortia};
use crate::matching::index::{Page, Scored, Window};
use crate::matching::model::{MemberProfile, ProjectProfile};
use crate::matching::vocabulary::Lang;

/// One page of a ranking: each candidate with its explained score, and the ranking's length.
#[derive(Debug)]
pub struct Ranking<T> {
    pub items: Vec<(Arc<T>, Scored)>,
    pub total: usize,
}

async fn off_executor<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    actix_web::web::block(f).await.map_err(|e| AppError::Unexpected(anyhow::anyhow!("ranking task failed: {e}")))?
}

/// A page of the index as a ranking: each scored id with what it names (`find`), the ranking's length.
fn ranking<T>(page: Page, find: impl Fn(Uuid) -> Option<Arc<T>>) -> Ranking<T> {
    let items = page.items.into_iter().filter_map(|s| Some((find(s.id)?, s))).collect();
    Ranking { items, total: page.total }
}

fn no_member() -> AppError {
    AppError::NotFound("no member has this id".to_owned())
}

fn no_project() -> AppError {
    AppError::NotFound("no project has this id".to_owned())
}

/// The open projects a member should look at, best first; `scope` keeps only projects of that scope.
pub async fn projects_for_member(
    svc: &Services,
    id: Uuid,
    scope: Option<Scope>,
    lang: Lang,
    window: Window,
) -> Result<Ranking<ProjectProfile>, AppError> {
    let (matcher, now) = (svc.index.matcher.clone(), svc.clock.now());
    off_executor(move || {
        let (vocab, index) = (matcher.vocabulary(), matcher.read_index());
        index.member(id).ok_or_else(no_member)?;
        let keep = |p: &ProjectProfile| scope.is_none_or(|s| s == p.scope);
        let page = index.top_projects_for_member(&vocab, lang, id, now, keep, window);
        Ok(ranking(page, |p| index.project(p).cloned()))
    })
    .await
}

/// The members a member should meet, best first.
pub async fn partners_for_member(
    svc: &Services,
    id: Uuid,
    lang: Lang,
    window: Window,
) -> Result<Ranking<MemberProfile>, AppError> {
    let matcher = svc.index.matcher.clone();
    off_executor(move || {
        let (vocab, index) = (matcher.vocabulary(), matcher.read_index());
        index.member(id).ok_or_else(no_member)?;
        let page = index.top_partners_for_member(&vocab, lang, id, window);
        Ok(ranking(page, |m| index.member(m).cloned()))
    })
    .await
}

/// The members a project should invite, best first.
pub async fn members_for_project(
    svc: &Services,
    id: Uuid,
    lang: Lang,
    window: Window,
) -> Result<Ranking<MemberProfile>, AppError> {
    let (matcher, now) = (svc.index.matcher.clone(), svc.clock.now());
    off_executor(move || {
        let (vocab, index) = (matcher.vocabulary(), matcher.read_index());
        index.project(id).ok_or_else(no_project)?;
        let page = index.top_members_for_project(&vocab, lang, id, now, window);
        Ok(ranking(page, |m| index.member(m).cloned()))
    })
    .await
}

/// Teams for a project.
pub async fn consortia(svc: &Services, id: Uuid, lang: Lang) -> Result<Consortia, AppError> {
    let (matcher, now) = (svc.index.matcher.clone(), svc.clock.now());
    off_executor(move || {
        let (vocab, index) = (matcher.vocabulary(), matcher.read_index());
        consortium::propose(&index, &vocab, lang, id, now).ok_or_else(no_project)
    })
    .await
}
