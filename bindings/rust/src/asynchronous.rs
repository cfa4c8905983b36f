//! Asynchronous calls (libkasko 1.4): each `*_async` method of [`Client`]
//! starts the C API's `*_async` call and returns a [`CallFuture`], a std
//! `Future` woken by the call's `kasko_callback`. No runtime: the library's
//! engine thread (one per client) does the I/O, and any executor may poll.
//!
//! How a call's state is shared: an `Arc<CallState>` (a `Mutex` holding the
//! result and the waker), one reference held by the future, one handed to
//! C as `user_data` (`Arc::into_raw`) and reclaimed exactly once by the
//! callback (`Arc::from_raw`), which stores the result and wakes the waker.
//! The callback touches nothing else, so it may run anywhere the library
//! runs it: on the engine thread, or inside `kasko_client_free`.
//!
//! Dropping a future before its result came cancels the call
//! (`kasko_call_cancel`); the callback still comes and frees the state. A
//! future does not keep its client alive: dropping the [`Client`] cancels
//! the calls in flight, and their futures resolve to [`Error::Cancelled`].

use std::cell::Cell;
use std::ffi::c_void;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, TryLockError};
use std::task::{Context, Poll, Waker};

use crate::checkout::{OFFER_REQUEST, POLICY_ID, QUOTE_REQUEST};
use crate::{
    c_string, status_name, sys, Answer, CallOptions, Client, Error, Offer, PaymentFields,
    PaymentRequest, Policy, Quote,
};

// ---- the client's side: cancelling only while it lives ----------------------

/// What a client shares with its futures: its handle, and whether it has
/// been freed. `kasko_client_free` must not run while another thread uses
/// the handle (kasko.h), so a future cancels under the read lock, and the
/// client frees under the write lock.
pub(crate) struct Liveness {
    handle: NonNull<sys::kasko_client>,
    freed: RwLock<bool>,
}

// SAFETY: the handle is only used under `freed`'s read lock while it is
// false (kasko_call_cancel, which may be called from any thread), and freed
// once under its write lock.
unsafe impl Send for Liveness {}
unsafe impl Sync for Liveness {}

impl Liveness {
    pub(crate) fn new(handle: NonNull<sys::kasko_client>) -> Liveness {
        Liveness {
            handle,
            freed: RwLock::new(false),
        }
    }

    /// Frees the handle with `free` (once), while no future cancels.
    pub(crate) fn free(&self, free: impl FnOnce(*mut sys::kasko_client)) {
        let mut freed = self.freed.write().unwrap_or_else(PoisonError::into_inner);
        if !*freed {
            *freed = true;
            free(self.handle.as_ptr());
        }
    }

    /// Asks the library to cancel `call`, unless the client is freed or
    /// being freed (which cancels it anyway). Never waits for the write
    /// lock: a future dropped by a waker that `kasko_client_free` runs must
    /// not wait for that free to end.
    fn cancel(&self, call: u64) {
        let freed = match self.freed.try_read() {
            Ok(freed) => freed,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        if !*freed {
            // SAFETY: a live handle (read lock held, not freed). The status
            // says only whether the id was the client's: it was.
            let _ = unsafe { sys::kasko_call_cancel(self.handle.as_ptr(), call) };
        }
    }
}

// ---- one call's state ------------------------------------------------------

/// What a call's future and its callback share.
struct CallState {
    slot: Mutex<Slot>,
    /// The client's handle, as an address: which engine thread completes
    /// the call (see [`completing`]). Never dereferenced.
    client: usize,
}

#[derive(Default)]
struct Slot {
    /// The call's result, until the future takes it.
    result: Option<Result<Answer, Error>>,
    /// The waker of the future's last poll.
    waker: Option<Waker>,
    /// The callback came (or the call was never made): nothing to cancel.
    completed: bool,
}

impl CallState {
    fn new(client: NonNull<sys::kasko_client>) -> CallState {
        CallState {
            slot: Mutex::new(Slot::default()),
            client: client.as_ptr() as usize,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // Nothing panics while holding it; if something did, the slot is
        // still consistent (each field is written whole).
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores the result and hands back the waker to wake (outside the lock).
    fn complete(&self, result: Result<Answer, Error>) -> Option<Waker> {
        let mut slot = self.lock();
        slot.result = Some(result);
        slot.completed = true;
        slot.waker.take()
    }
}

thread_local! {
    /// The client (handle address) whose completion this thread is running, or 0.
    static COMPLETING: Cell<usize> = const { Cell::new(0) };
}

/// True while this thread runs a completion of `client`: it is that
/// client's engine thread, inside a callback, where `kasko_client_free`
/// returns before the other calls' callbacks (and events) have run.
pub(crate) fn completing(client: NonNull<sys::kasko_client>) -> bool {
    COMPLETING
        .try_with(|current| current.get() == client.as_ptr() as usize)
        .unwrap_or(false)
}

/// Marks this thread as running a completion of a client until dropped.
struct Completing(usize);

impl Completing {
    fn enter(client: usize) -> Completing {
        Completing(
            COMPLETING
                .try_with(|current| current.replace(client))
                .unwrap_or(0),
        )
    }
}

impl Drop for Completing {
    fn drop(&mut self) {
        let _ = COMPLETING.try_with(|current| current.set(self.0));
    }
}

/// The `kasko_callback` of every asynchronous call: takes back the
/// reference `user_data` holds, stores the result and wakes the future. A
/// panic (a waker's) never unwinds into the library.
unsafe extern "C" fn complete_call(result: *mut sys::kasko_result, user_data: *mut c_void) {
    if user_data.is_null() {
        // Not ours (never made so): only the result is to be freed.
        // SAFETY: the callback owns the result.
        unsafe { sys::kasko_result_free(result) };
        return;
    }
    // SAFETY: `user_data` is the reference `submit` leaked with
    // Arc::into_raw for this call, and the library calls this exactly once
    // per accepted call: it is reclaimed exactly once, here.
    let state = unsafe { Arc::from_raw(user_data.cast_const().cast::<CallState>()) };
    // SAFETY: the callback owns the result; the Answer frees it.
    let answer = unsafe { Answer::from_raw(result) };
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        let _completing = Completing::enter(state.client);
        let answer = answer.ok_or_else(|| {
            Error::new(
                sys::KASKO_ERR_INTERNAL,
                "libkasko completed an asynchronous call without a result",
            )
        });
        if let Some(waker) = state.complete(answer) {
            waker.wake();
        }
        // The last reference, if the future is gone: frees the result.
        drop(state);
    }));
    if let Err(payload) = caught {
        // Dropping the payload runs its code too: never let that unwind either.
        if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(again);
        }
    }
}

// ---- the future ----------------------------------------------------------------

/// An asynchronous call in flight ([`Client::get_payment_async`] and the
/// other `*_async` methods): a `Future` of the blocking call's
/// `Result<T, Error>`, woken by the library's callback.
///
/// - The call starts when the method is called, not when the future is
///   first polled (the arguments are copied by then, so nothing is borrowed:
///   the future is `'static`, `Send`, `Sync` and `Unpin`). Poll it on any
///   executor, or on none: it needs no runtime.
/// - Its result is exactly the blocking call's, also for a refused argument
///   ([`Error::InvalidArgument`], outcome [`Outcome::NotSent`](crate::Outcome::NotSent),
///   attempts 0), which the future delivers too.
/// - Dropping it before it is ready cancels the call (`kasko_call_cancel`);
///   [`cancel`](CallFuture::cancel) asks for that and keeps the future, to
///   learn the outcome.
/// - It does not keep its [`Client`] alive: dropping the client cancels its
///   calls in flight, and their futures are then ready with
///   [`Error::Cancelled`].
///
/// Polling it again after it returned `Ready` panics.
#[must_use = "a CallFuture cancels its call when dropped"]
pub struct CallFuture<T> {
    state: Arc<CallState>,
    /// The library's id of the call; 0 when it was never made.
    call: u64,
    /// The client, to cancel through while it lives; `None` when the call was never made.
    client: Option<Arc<Liveness>>,
    /// The typed view of a successful answer, as the blocking call makes it.
    decode: fn(Answer) -> T,
    /// `Ready` was returned.
    finished: bool,
}

impl<T> CallFuture<T> {
    /// A future that is ready at once with `error` (a call not made).
    fn refused(
        client: NonNull<sys::kasko_client>,
        error: Error,
        decode: fn(Answer) -> T,
    ) -> CallFuture<T> {
        let state = Arc::new(CallState::new(client));
        let _ = state.complete(Err(error));
        CallFuture {
            state,
            call: 0,
            client: None,
            decode,
            finished: false,
        }
    }

    /// The library's id of the call (`kasko_call_cancel`'s); `None` when
    /// it was refused before the library took it (an argument C cannot
    /// carry, or a client being freed).
    pub fn id(&self) -> Option<u64> {
        (self.call != 0).then_some(self.call)
    }

    /// Whether the result has come: polling now returns `Ready` (before it
    /// was returned).
    pub fn is_ready(&self) -> bool {
        !self.finished && self.state.lock().result.is_some()
    }

    /// Asks for the call to end now, cancelled (`kasko_call_cancel`). The
    /// future still resolves: to [`Error::Cancelled`] when the call was
    /// still in flight (its [`outcome`](Error::outcome) is `NotSent` when no
    /// byte of a request can have been written, else `Unknown`: a create
    /// may have been carried out), or to the call's own result when that
    /// came first. Does nothing once the result came, or after the client
    /// was dropped (which cancelled the call already).
    pub fn cancel(&self) {
        if self.state.lock().completed {
            return;
        }
        if let Some(client) = &self.client {
            client.cancel(self.call);
        }
    }
}

impl<T> Future for CallFuture<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, Error>> {
        let this = self.get_mut(); // Unpin: no field is pinned
        assert!(
            !this.finished,
            "kasko::CallFuture polled after it returned Ready"
        );
        let mut slot = this.state.lock();
        if let Some(result) = slot.result.take() {
            let old = slot.waker.take();
            drop(slot);
            drop(old);
            this.finished = true;
            // The blocking calls' decoding: the status decides (into_result),
            // then the same typed view.
            return Poll::Ready(result.and_then(Answer::into_result).map(this.decode));
        }
        let old = match &slot.waker {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            _ => slot.waker.replace(cx.waker().clone()),
        };
        drop(slot);
        // A waker's drop may run its executor's code: outside the lock.
        drop(old);
        Poll::Pending
    }
}

impl<T> Drop for CallFuture<T> {
    fn drop(&mut self) {
        let (completed, waker) = {
            let mut slot = self.state.lock();
            (slot.completed, slot.waker.take())
        };
        drop(waker);
        if !completed {
            // The callback will still come, and free the state.
            if let Some(client) = &self.client {
                client.cancel(self.call);
            }
        }
    }
}

impl<T> fmt::Debug for CallFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let completed = self.state.lock().completed;
        f.debug_struct("CallFuture")
            .field("id", &self.call)
            .field("completed", &completed)
            .field("finished", &self.finished)
            .finish()
    }
}

// ---- the client's asynchronous calls ------------------------------------------------

/// One `_async` call taking one string, as [`Client::call_one`] is for `_v2`.
type AsyncJsonCall = unsafe extern "C" fn(
    *mut sys::kasko_client,
    *const std::os::raw::c_char,
    *const sys::kasko_call_options,
    sys::kasko_callback,
    *mut c_void,
    *mut u64,
) -> sys::kasko_status;

impl Client {
    /// Starts an asynchronous call: `start` gets the handle, the callback,
    /// the user data and the out pointer for the call's id.
    fn submit<T>(
        &self,
        name: &str,
        decode: fn(Answer) -> T,
        start: impl FnOnce(
            *mut sys::kasko_client,
            sys::kasko_callback,
            *mut c_void,
            *mut u64,
        ) -> sys::kasko_status,
    ) -> CallFuture<T> {
        let state = Arc::new(CallState::new(self.handle));
        let user_data = Arc::into_raw(Arc::clone(&state))
            .cast_mut()
            .cast::<c_void>();
        let mut call = 0u64;
        let status = start(
            self.handle.as_ptr(),
            Some(complete_call),
            user_data,
            &mut call,
        );
        if status != sys::KASKO_OK {
            // SAFETY: refused, so the callback never comes: the reference
            // given as user data is reclaimed here instead, once.
            drop(unsafe { Arc::from_raw(user_data.cast_const().cast::<CallState>()) });
            let why = match status {
                sys::KASKO_ERR_CANCELLED => "the client is being freed",
                sys::KASKO_ERR_INTERNAL => "the engine of asynchronous calls could not be started",
                _ => "the call was refused",
            };
            return CallFuture::refused(
                self.handle,
                Error::new(
                    status,
                    &format!(
                        "{name} returned {}: {why}; the call was not made",
                        status_name(status)
                    ),
                ),
                decode,
            );
        }
        CallFuture {
            state,
            call,
            client: Some(Arc::clone(&self.live)),
            decode,
            finished: false,
        }
    }

    fn payment_create_async<T>(
        &self,
        request: &PaymentRequest,
        options: &CallOptions,
        decode: fn(Answer) -> T,
    ) -> CallFuture<T> {
        let prepared =
            PaymentFields::of(request).and_then(|fields| Ok((fields, options.for_call()?)));
        let (fields, options) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return CallFuture::refused(self.handle, error, decode),
        };
        self.submit(
            "kasko_payment_create_async",
            decode,
            |client, callback, user_data, call| {
                // SAFETY: a live handle, valid C strings and live options or
                // NULL, read before it returns; our callback and user data.
                unsafe {
                    sys::kasko_payment_create_async(
                        client,
                        fields.token.as_ptr(),
                        fields.provider.as_ptr(),
                        fields.method.as_ptr(),
                        fields.policy_id.as_ptr(),
                        options,
                        callback,
                        user_data,
                        call,
                    )
                }
            },
        )
    }

    fn one_async<T>(
        &self,
        (call, name): (AsyncJsonCall, &str),
        argument: &str,
        what: &str,
        options: &CallOptions,
        decode: fn(Answer) -> T,
    ) -> CallFuture<T> {
        let prepared = c_string(argument, || what.to_string())
            .and_then(|argument| Ok((argument, options.for_call()?)));
        let (argument, options) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return CallFuture::refused(self.handle, error, decode),
        };
        self.submit(name, decode, |client, callback, user_data, id| {
            // SAFETY: a live handle, a valid C string and live options or
            // NULL, read before it returns; our callback and user data.
            unsafe { call(client, argument.as_ptr(), options, callback, user_data, id) }
        })
    }

    /// [`create_payment`](Client::create_payment) without blocking
    /// (`kasko_payment_create_async`): the payment object as JSON text.
    /// See [`CallFuture`]; [`create_payment_async_with`](Client::create_payment_async_with)
    /// takes options and gives the [`Answer`].
    pub fn create_payment_async(&self, request: &PaymentRequest) -> CallFuture<String> {
        self.payment_create_async(request, &CallOptions::new(), Answer::into_json)
    }

    /// [`create_payment_with`](Client::create_payment_with) without
    /// blocking. Sent at most once. Dropped or [cancelled](CallFuture::cancel)
    /// once sent, it ends [`Error::Cancelled`] with outcome
    /// [`Unknown`](crate::Outcome::Unknown): the payment may exist (view the
    /// policy, or [`resolve_payment`](Client::resolve_payment), before
    /// creating it again).
    pub fn create_payment_async_with(
        &self,
        request: &PaymentRequest,
        options: &CallOptions,
    ) -> CallFuture<Answer> {
        self.payment_create_async(request, options, |answer| answer)
    }

    /// [`get_payment`](Client::get_payment) without blocking
    /// (`kasko_payment_get_async`): the payment object as JSON text.
    pub fn get_payment_async(&self, payment_id: &str) -> CallFuture<String> {
        self.get_payment_async_decoded(payment_id, &CallOptions::new(), Answer::into_json)
    }

    /// [`get_payment_with`](Client::get_payment_with) without blocking;
    /// retries wait on the engine's timers, no thread sleeps.
    pub fn get_payment_async_with(
        &self,
        payment_id: &str,
        options: &CallOptions,
    ) -> CallFuture<Answer> {
        self.get_payment_async_decoded(payment_id, options, |answer| answer)
    }

    fn get_payment_async_decoded<T>(
        &self,
        payment_id: &str,
        options: &CallOptions,
        decode: fn(Answer) -> T,
    ) -> CallFuture<T> {
        self.one_async(
            (sys::kasko_payment_get_async, "kasko_payment_get_async"),
            payment_id,
            "payment_id",
            options,
            decode,
        )
    }

    /// [`create_quote`](Client::create_quote) without blocking
    /// (`kasko_quote_create_async`).
    pub fn create_quote_async(&self, request_json: &str) -> CallFuture<Quote> {
        self.create_quote_async_with(request_json, &CallOptions::new())
    }

    /// [`create_quote_with`](Client::create_quote_with) without blocking.
    pub fn create_quote_async_with(
        &self,
        request_json: &str,
        options: &CallOptions,
    ) -> CallFuture<Quote> {
        self.one_async(
            (sys::kasko_quote_create_async, "kasko_quote_create_async"),
            request_json,
            QUOTE_REQUEST,
            options,
            Quote::from_answer,
        )
    }

    /// [`create_offer`](Client::create_offer) without blocking
    /// (`kasko_offer_create_async`; sent at most once).
    pub fn create_offer_async(&self, request_json: &str) -> CallFuture<Offer> {
        self.create_offer_async_with(request_json, &CallOptions::new())
    }

    /// [`create_offer_with`](Client::create_offer_with) without blocking.
    pub fn create_offer_async_with(
        &self,
        request_json: &str,
        options: &CallOptions,
    ) -> CallFuture<Offer> {
        self.one_async(
            (sys::kasko_offer_create_async, "kasko_offer_create_async"),
            request_json,
            OFFER_REQUEST,
            options,
            Offer::from_answer,
        )
    }

    /// [`get_offer`](Client::get_offer) without blocking (`kasko_offer_get_async`).
    pub fn get_offer_async(&self, policy_id: &str) -> CallFuture<Offer> {
        self.get_offer_async_with(policy_id, &CallOptions::new())
    }

    /// [`get_offer_with`](Client::get_offer_with) without blocking.
    pub fn get_offer_async_with(
        &self,
        policy_id: &str,
        options: &CallOptions,
    ) -> CallFuture<Offer> {
        self.one_async(
            (sys::kasko_offer_get_async, "kasko_offer_get_async"),
            policy_id,
            POLICY_ID,
            options,
            Offer::from_answer,
        )
    }

    /// [`get_policy`](Client::get_policy) without blocking
    /// (`kasko_policy_get_async`), with its `ETag` and `Last-Modified`.
    pub fn get_policy_async(&self, policy_id: &str) -> CallFuture<Policy> {
        self.get_policy_async_with(policy_id, &CallOptions::new())
    }

    /// [`get_policy_with`](Client::get_policy_with) without blocking.
    pub fn get_policy_async_with(
        &self,
        policy_id: &str,
        options: &CallOptions,
    ) -> CallFuture<Policy> {
        self.one_async(
            (sys::kasko_policy_get_async, "kasko_policy_get_async"),
            policy_id,
            POLICY_ID,
            options,
            Policy::from_answer,
        )
    }
}

/// What only the crate can see: a call's state is freed by its callback
/// after the future was dropped, and a client dropped inside one of its
/// own completions. Against a silent local server (it accepts connections
/// and never answers), so without the sandbox.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Event, EventKind};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Weak;
    use std::task::Wake;
    use std::thread::{self, Thread};
    use std::time::{Duration, Instant};

    const ID: &str = "t00000000000000000000000000000001";
    const OTHER_ID: &str = "t00000000000000000000000000000002";
    const PATIENCE: Duration = Duration::from_secs(30);

    fn silent_client(listener: &TcpListener) -> Client {
        let url = format!("http://{}", listener.local_addr().unwrap());
        Client::from_config(
            &Config::new()
                .public_key("pk_test_silent")
                .secret_key("sk_test_silent")
                .base_url(&url)
                .max_retries(0),
        )
        .expect("a client")
    }

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done() {
            assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}");
            thread::sleep(Duration::from_millis(5));
        }
    }

    struct Unpark {
        thread: Thread,
        woken: AtomicBool,
    }

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.woken.store(true, Ordering::Release);
            self.thread.unpark();
        }
    }

    fn block_on<F: Future + Unpin>(mut future: F) -> F::Output {
        let unpark = Arc::new(Unpark {
            thread: thread::current(),
            woken: AtomicBool::new(false),
        });
        let waker = Waker::from(Arc::clone(&unpark));
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Poll::Ready(output) =
                Pin::new(&mut future).poll(&mut Context::from_waker(&waker))
            {
                return output;
            }
            while !unpark.woken.swap(false, Ordering::Acquire) {
                assert!(Instant::now() < deadline, "not ready within {PATIENCE:?}");
                thread::park_timeout(Duration::from_millis(100));
            }
        }
    }

    #[test]
    fn a_dropped_futures_state_is_freed_by_its_callback() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = silent_client(&listener);
        let mut future = client.get_payment_async(ID);
        assert!(future.id().is_some());
        assert!(Pin::new(&mut future)
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending());
        let state: Weak<CallState> = Arc::downgrade(&future.state);
        assert_eq!(state.strong_count(), 2, "the future's and the callback's");
        // The request reaches the server, which never answers.
        listener.set_nonblocking(true).unwrap();
        wait_until("a connection", || listener.accept().is_ok());
        drop(future);
        wait_until("the callback reclaiming the state", || {
            state.upgrade().is_none()
        });
        // Another call on the client still completes (cancelled here).
        let future = client.get_payment_async(OTHER_ID);
        future.cancel();
        match block_on(future) {
            Err(Error::Cancelled(details)) => assert!(details.attempts() <= 1),
            other => panic!("not cancelled: {:?}", other.map(|_| ())),
        }
    }

    /// A waker that drops the client it holds: run by the completion, on
    /// the client's own engine thread.
    struct DropsClient {
        client: Mutex<Option<Client>>,
        inside_completion: AtomicBool,
        dropped: AtomicBool,
    }

    impl Wake for DropsClient {
        fn wake(self: Arc<Self>) {
            let client = self.client.lock().unwrap().take();
            if let Some(client) = client {
                self.inside_completion
                    .store(completing(client.handle), Ordering::Release);
                drop(client);
                self.dropped.store(true, Ordering::Release);
            }
        }
    }

    #[test]
    fn a_client_dropped_inside_its_own_completion_keeps_its_hook_for_the_rest() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = silent_client(&listener);
        let cancelled_ends = Arc::new(Mutex::new(0usize));
        let counted = Arc::clone(&cancelled_ends);
        client
            .set_event_hook(Some(Box::new(move |event: &Event<'_>| {
                if event.kind() == EventKind::CallEnd && event.status() == sys::KASKO_ERR_CANCELLED
                {
                    *counted.lock().unwrap() += 1;
                }
            })))
            .unwrap();
        // `first` times out soon; `rest` would wait for ever.
        let mut first = client
            .get_payment_async_with(ID, &CallOptions::new().timeout(Duration::from_millis(200)));
        let rest: Vec<CallFuture<String>> =
            (0..3).map(|_| client.get_payment_async(OTHER_ID)).collect();
        let dropper = Arc::new(DropsClient {
            client: Mutex::new(Some(client)),
            inside_completion: AtomicBool::new(false),
            dropped: AtomicBool::new(false),
        });
        let waker = Waker::from(Arc::clone(&dropper));
        assert!(Pin::new(&mut first)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        wait_until("the client dropped by the waker", || {
            dropper.dropped.load(Ordering::Acquire)
        });
        assert!(
            dropper.inside_completion.load(Ordering::Acquire),
            "dropped on its engine thread, inside a completion"
        );
        assert!(!completing(NonNull::dangling()), "not on this thread");
        match block_on(first) {
            Err(Error::Network(_)) => {}
            other => panic!("not timed out: {:?}", other.map(|_| ())),
        }
        // The other calls end cancelled after that completion returned, and
        // their events reach the hook, which outlived the client. (With
        // libkasko 1.4.0 they come about 10 s later, not at once: the
        // engine's loop is not woken by a free from its own thread; a C
        // API matter, not waited out here beyond PATIENCE.)
        for future in rest {
            match block_on(future) {
                Err(Error::Cancelled(_)) => {}
                other => panic!("not cancelled: {:?}", other.map(|_| ())),
            }
        }
        wait_until("three cancelled call ends", || {
            *cancelled_ends.lock().unwrap() == 3
        });
    }
}
