// kasko.hpp - the C++17 binding of libkasko (C API 1.1; 1.2 for the event hook), header-only.
//
//   #include <kasko.hpp>
//
//   kasko::Client client(kasko::Config()
//                            .public_key("pk_test_...")
//                            .secret_key("sk_test_...")
//                            .timeout(std::chrono::seconds(30)));
//   kasko::Result created = client.create_payment({"ptok_...", "invoice", "invoice", "tpol_..."});
//   std::string id = created.member_string("id").value_or("");
//   kasko::CallOptions options;
//   options.timeout_ms = 5000;
//   options.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
//   kasko::Result same = client.get_payment(id, options);
//   std::cout << same.json() << " (HTTP " << same.http_status().value_or(0) << ")\n";
//
// A thin layer over <kasko.h>: it translates types and ownership only.
// Validation, retries, the JSON shapes and every message are the library's;
// the binding writes no JSON.
//
// - kasko::Config owns one kasko_config (RAII, move-only): the client's
//   configuration set key by key with chainable setters (public_key,
//   secret_key, base_url, timeout, connect_timeout, max_retries, ca_bundle,
//   proxy, user_agent); the library holds and escapes the values. A value
//   the library refuses makes Client(const Config&) throw
//   KASKO_ERR_INVALID_ARGUMENT with the library's message. Client(const
//   std::string&) still takes the C API's JSON text.
// - kasko::Client owns one kasko_client (RAII, move-only). Its member
//   functions are const and may be called from many threads at once, as the
//   C API allows. A moved-from Client holds no handle: calls on it throw the
//   library's KASKO_ERR_INVALID_ARGUMENT.
// - Every call returns a kasko::Result (RAII over a kasko_result, move-only):
//   the payment object as JSON text, plus typed getters (status, HTTP status,
//   outcome, attempts, request id, ...) and typed access to its top-level
//   members, all read by the library.
// - Every failure throws kasko::Error (a std::runtime_error whose what() is
//   the library's message), which carries the failed call's Result.
// - kasko::CallOptions are per-call settings (timeout, W3C trace context):
//   an invalid one makes the call throw KASKO_ERR_INVALID_ARGUMENT with the
//   library's message, before anything is sent.
// - Nothing to free by hand: strings are copied out of the Result.
// - With kasko.h 1.2: Client::set_event_hook(std::function<void(const
//   kasko::Event&)>) sees one event per attempt and per call end (on the
//   calling threads, many at once; exceptions are caught and counted, never
//   let through the library), and Result::total_time() is a call's wall time.
// - With kasko.h 1.3: kasko::verify_webhook(secret, body, header) checks a
//   webhook's X-KASKO-Signature (returns, or throws kasko::Error with
//   KASKO_ERR_BAD_SIGNATURE or KASKO_ERR_INVALID_ARGUMENT); no client.
// - With kasko.h 1.3, the checkout: Client::create_quote, create_offer
//   (request JSON text, checked by the library), get_offer, get_policy
//   (Result::etag() / last_modified() are its headers) return a Result;
//   Client::resolve_payment(PaymentRequest) returns a PaymentResolution
//   (PaymentState paid / pending / not_paid) after an outcome-unknown create.
//
// Needs kasko.h 1.1 or later (and so libkasko.so.1 of 1.1 or later, whose
// KASKO_1.1 symbols it uses); the event hook and total_time() are there with
// kasko.h 1.2 (KASKO_1.2 symbols), verify_webhook with kasko.h 1.3
// (KASKO_1.3), as are the checkout calls. Link with -lkasko (pkg-config --cflags --libs kasko).
#ifndef KASKO_HPP
#define KASKO_HPP

#if !defined(__cplusplus) || __cplusplus < 201703L
#error "kasko.hpp needs C++17"
#endif

#include <kasko.h>

#if !defined(KASKO_VERSION_NUMBER) || KASKO_VERSION_NUMBER < 1001000
#error "kasko.hpp needs kasko.h 1.1 or later"
#endif

#include <chrono>
#include <cmath>
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace kasko {

/// The loaded library's version, "MAJOR.MINOR.PATCH".
inline std::string version() { return kasko_version(); }

/// The loaded library's version as MAJOR*1000000 + MINOR*1000 + PATCH; compare
/// with KASKO_VERSION_NUMBER, the header's.
inline int version_number() noexcept { return kasko_version_number(); }

/// The name of a status, e.g. "KASKO_ERR_NOT_FOUND" ("KASKO_STATUS_UNKNOWN"
/// for a value this library does not know).
inline std::string status_name(kasko_status status) { return kasko_status_name(status); }

/// What a call did, as kasko_outcome: may it have taken effect?
enum class Outcome : int {
    succeeded = KASKO_OUTCOME_SUCCEEDED,  ///< the call succeeded
    not_sent = KASKO_OUTCOME_NOT_SENT,    ///< no byte of the request can have been written
    rejected = KASKO_OUTCOME_REJECTED,    ///< the server answered 4xx and did not act
    unknown = KASKO_OUTCOME_UNKNOWN,      ///< may have taken effect: look before creating again
};

/// The outcome's name, e.g. "KASKO_OUTCOME_NOT_SENT" ("KASKO_OUTCOME_INVALID"
/// for a value that is not one). Static: never freed.
inline const char* outcome_name(Outcome outcome) noexcept {
    return kasko_outcome_name(static_cast<kasko_outcome>(outcome));
}

/// The type of a top-level member of a result's JSON, as kasko_json_type.
enum class JsonType : int {
    none = KASKO_JSON_NONE,  ///< no member of that name, or more than one (ambiguous)
    null = KASKO_JSON_NULL,
    boolean = KASKO_JSON_BOOL,
    number = KASKO_JSON_NUMBER,
    string = KASKO_JSON_STRING,
    array = KASKO_JSON_ARRAY,
    object = KASKO_JSON_OBJECT,
};

namespace detail {

struct ResultFree {
    void operator()(kasko_result* result) const noexcept { kasko_result_free(result); }
};

struct CallOptionsFree {
    void operator()(kasko_call_options* options) const noexcept { kasko_call_options_free(options); }
};

struct ConfigFree {
    void operator()(kasko_config* config) const noexcept { kasko_config_free(config); }
};

inline bool has_nul(const std::string& value) noexcept { return value.find('\0') != std::string::npos; }

inline std::optional<std::string> optional_string(const char* value) {
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

// The top-level members of a result's JSON, read by the library (for
// kasko::Result and kasko::Event). A name with a NUL byte matches none.
inline JsonType member_type(const kasko_result* result, const std::string& name) noexcept {
    if (has_nul(name)) return JsonType::none;
    return static_cast<JsonType>(kasko_result_member_type(result, name.c_str()));
}

inline std::optional<std::string> member_string(const kasko_result* result, const std::string& name) {
    if (has_nul(name)) return std::nullopt;
    const char* value = nullptr;
    std::size_t length = 0;
    if (kasko_result_member_string(result, name.c_str(), &value, &length) != KASKO_OK) return std::nullopt;
    return std::string(value, length);
}

inline std::optional<std::int64_t> member_int64(const kasko_result* result, const std::string& name) noexcept {
    if (has_nul(name)) return std::nullopt;
    std::int64_t value = 0;
    if (kasko_result_member_int64(result, name.c_str(), &value) != KASKO_OK) return std::nullopt;
    return value;
}

inline std::optional<double> member_double(const kasko_result* result, const std::string& name) noexcept {
    if (has_nul(name)) return std::nullopt;
    double value = 0;
    if (kasko_result_member_double(result, name.c_str(), &value) != KASKO_OK) return std::nullopt;
    return value;
}

inline std::optional<bool> member_bool(const kasko_result* result, const std::string& name) noexcept {
    if (has_nul(name)) return std::nullopt;
    int value = 0;
    if (kasko_result_member_bool(result, name.c_str(), &value) != KASKO_OK) return std::nullopt;
    return value != 0;
}

inline std::optional<std::string> member_json(const kasko_result* result, const std::string& name) {
    if (has_nul(name)) return std::nullopt;
    const char* value = nullptr;
    std::size_t length = 0;
    if (kasko_result_member_json(result, name.c_str(), &value, &length) != KASKO_OK) return std::nullopt;
    return std::string(value, length);
}

}  // namespace detail

/// The result of a call: owns one kasko_result (RAII, move-only; a moved-from
/// Result is empty). Immutable: one Result may be read from many threads.
///
/// A success carries the payment object; a failure (inside a kasko::Error)
/// the library's error object. Either way json() is that object as text and
/// the getters are read by the library, never re-parsed here.
class Result {
public:
    /// Takes ownership of a result of the C API (nullptr: an empty Result).
    explicit Result(kasko_result* result) noexcept : result_(result) {}

    /// An error result made by the library (kasko_result_new_error): outcome
    /// not_sent, attempts 0, not retryable, no HTTP status. For wrappers that
    /// refuse an argument themselves. `status` must be an error status this
    /// library knows and `message` valid UTF-8 (it ends at a NUL byte);
    /// otherwise the result is KASKO_ERR_INVALID_ARGUMENT, saying so.
    static Result error(kasko_status status, const std::string& message) {
        kasko_result* out = nullptr;
        kasko_status made = kasko_result_new_error(status, message.c_str(), &out);
        static_cast<void>(made);  // the result says it too, and is never NULL
        return Result(out);
    }

    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    Result(Result&&) noexcept = default;
    Result& operator=(Result&&) noexcept = default;
    ~Result() = default;

    /// True for a success (status() == KASKO_OK).
    bool ok() const noexcept { return status() == KASKO_OK; }

    /// The call's status (KASKO_ERR_INVALID_ARGUMENT for an empty Result). It
    /// may be a value newer than this header's enum: treat unknown values
    /// like KASKO_ERR_INTERNAL.
    kasko_status status() const noexcept { return kasko_result_status(result_.get()); }

    /// The status's name, e.g. "KASKO_ERR_NOT_FOUND".
    const char* code() const noexcept { return kasko_status_name(status()); }

    /// The payment object exactly as the API sent it (success), or the
    /// library's error object. Empty only for an empty Result.
    std::string json() const {
        const char* text = kasko_result_json(result_.get());
        return text != nullptr ? std::string(text) : std::string();
    }

    /// The API's HTTP status (200, 201, 404, ...), std::nullopt when no response came.
    std::optional<int> http_status() const noexcept {
        int status = kasko_result_http_status(result_.get());
        if (status == 0) return std::nullopt;
        return status;
    }

    /// Whether the call may have taken effect (Outcome::succeeded on success).
    Outcome outcome() const noexcept { return static_cast<Outcome>(kasko_result_outcome(result_.get())); }

    /// Whether the same call may succeed if made again later.
    bool retryable() const noexcept { return kasko_result_retryable(result_.get()) != 0; }

    /// The HTTP attempts made; 0 if the call was refused before any I/O.
    int attempts() const noexcept { return kasko_result_attempts(result_.get()); }

    /// What went wrong; empty on success.
    std::string message() const {
        const char* text = kasko_result_message(result_.get());
        return text != nullptr ? std::string(text) : std::string();
    }

    /// The response's X-Request-Id (quote it to support), if there was one.
    std::optional<std::string> request_id() const {
        return detail::optional_string(kasko_result_request_id(result_.get()));
    }

    /// On KASKO_ERR_PENDING_PAYMENT, the id of the policy's pending payment.
    std::optional<std::string> pending_payment_id() const {
        return detail::optional_string(kasko_result_pending_payment_id(result_.get()));
    }

#if KASKO_VERSION_NUMBER >= 1003000
    /// A policy view's ETag header (kasko_result_etag, libkasko 1.3), as the
    /// server sent it (a version id such as "tpv_..."): send it back as
    /// If-Match. std::nullopt for any other result, or when none was sent.
    std::optional<std::string> etag() const { return detail::optional_string(kasko_result_etag(result_.get())); }

    /// A policy view's Last-Modified header (kasko_result_last_modified,
    /// libkasko 1.3), an HTTP date: send it back as If-Unmodified-Since.
    /// std::nullopt for any other result, or when none was sent.
    std::optional<std::string> last_modified() const {
        return detail::optional_string(kasko_result_last_modified(result_.get()));
    }
#endif

#if KASKO_VERSION_NUMBER >= 1002000
    /// The call's wall time (kasko_result_total_time_us, libkasko 1.2): from
    /// the call's start to its answer on a monotonic clock, retry waits
    /// included. Zero for a call refused before any I/O and for a Result
    /// made by Result::error().
    std::chrono::microseconds total_time() const noexcept {
        return std::chrono::microseconds(kasko_result_total_time_us(result_.get()));
    }
#endif

    // ---- top-level members of json(), read by the library ----------------
    // std::nullopt: no such member, another type, or the name appears more
    // than once (member_type() says JsonType::none for that too). A name with
    // a NUL byte matches no member.

    /// The member's type; JsonType::none if absent or ambiguous.
    JsonType member_type(const std::string& name) const noexcept { return detail::member_type(result_.get(), name); }

    /// A string member, unescaped (UTF-8; a "\u0000" in it stays a NUL byte).
    std::optional<std::string> member_string(const std::string& name) const {
        return detail::member_string(result_.get(), name);
    }

    /// An integer member within int64 (not 1.5, not 1e3).
    std::optional<std::int64_t> member_int64(const std::string& name) const noexcept {
        return detail::member_int64(result_.get(), name);
    }

    /// A number member, as a finite double.
    std::optional<double> member_double(const std::string& name) const noexcept {
        return detail::member_double(result_.get(), name);
    }

    /// A true/false member.
    std::optional<bool> member_bool(const std::string& name) const noexcept {
        return detail::member_bool(result_.get(), name);
    }

    /// Any member's value as JSON text (e.g. the "_links" object).
    std::optional<std::string> member_json(const std::string& name) const {
        return detail::member_json(result_.get(), name);
    }

    /// The C result, still owned by this Result (nullptr if empty).
    const kasko_result* native_handle() const noexcept { return result_.get(); }

    /// Gives up ownership: the caller frees it with kasko_result_free().
    kasko_result* release() noexcept { return result_.release(); }

private:
    std::unique_ptr<kasko_result, detail::ResultFree> result_;
};

class Client;

/// A failed libkasko call, carrying its Result. what() is the library's
/// message. Copying an Error never throws (the Result is shared).
class Error : public std::runtime_error {
public:
    /// An error from a failed call's result. A success or an empty Result is
    /// not a failure: it becomes a KASKO_ERR_INTERNAL error saying so.
    explicit Error(Result result) : Error(share(std::move(result))) {}

    /// The failed call's result (also for errors this binding made itself,
    /// with kasko_result_new_error()).
    const Result& result() const noexcept { return *result_; }

    /// The status of the call: never KASKO_OK. It may be a value newer than
    /// this header's enum; treat unknown values like KASKO_ERR_INTERNAL.
    kasko_status status() const noexcept { return result_->status(); }

    /// The status's name, e.g. "KASKO_ERR_NOT_FOUND".
    const char* code() const noexcept { return result_->code(); }

    /// The API's HTTP status, or std::nullopt when no response came.
    std::optional<int> http_status() const noexcept { return result_->http_status(); }

    /// Whether the call may have taken effect: Outcome::unknown means a
    /// payment may exist, so look it up before creating it again.
    Outcome outcome() const noexcept { return result_->outcome(); }

    /// Whether the same call may succeed if made again later.
    bool retryable() const noexcept { return result_->retryable(); }

    /// The HTTP attempts made; 0 if the call was refused before any I/O.
    int attempts() const noexcept { return result_->attempts(); }

    /// The library's message (the same text as what()).
    std::string message() const { return what(); }

    /// The response's X-Request-Id, if there was one.
    std::optional<std::string> request_id() const { return result_->request_id(); }

    /// On KASKO_ERR_PENDING_PAYMENT, the id of the policy's pending payment.
    std::optional<std::string> pending_payment_id() const { return result_->pending_payment_id(); }

#if KASKO_VERSION_NUMBER >= 1002000
    /// The failed call's wall time, retry waits included (Result::total_time()).
    std::chrono::microseconds total_time() const noexcept { return result_->total_time(); }
#endif

    /// The library's error object as JSON text ("code", "outcome", "errors",
    /// ...; its members are also in result().member_*()).
    std::string json() const { return result_->json(); }

private:
    explicit Error(std::shared_ptr<const Result> result)
        : std::runtime_error(what_of(*result)), result_(std::move(result)) {}

    static std::shared_ptr<const Result> share(Result result) {
        if (result.native_handle() == nullptr || result.ok()) {
            result = Result::error(KASKO_ERR_INTERNAL, result.native_handle() == nullptr
                                                           ? "kasko::Error made from an empty kasko::Result"
                                                           : "kasko::Error made from a successful kasko::Result");
        }
        return std::make_shared<const Result>(std::move(result));
    }

    static std::string what_of(const Result& result) {
        std::string message = result.message();
        return message.empty() ? std::string(result.code()) : message;
    }

    std::shared_ptr<const Result> result_;
};

/// Per-call settings. The defaults are the client's: a default CallOptions
/// passes NULL options. Values are checked by the library when the call is
/// made: an invalid one makes the call throw KASKO_ERR_INVALID_ARGUMENT
/// (outcome not_sent, nothing sent) with a message saying what is wrong.
/// A plain value: copy it, share it between threads.
struct CallOptions {
    /// Total per attempt; 0: the client's "timeout_ms".
    long timeout_ms = 0;
    /// W3C "traceparent" header, sent on every attempt: "00-<32 hex>-<16 hex>-<2 hex>".
    std::optional<std::string> traceparent;
    /// W3C "tracestate" header, sent on every attempt (with a traceparent).
    std::optional<std::string> tracestate;
};

/// The fields of a payment request (kasko_payment_create_v2). The library
/// checks them: non-empty, no control characters, bounded length.
struct PaymentRequest {
    std::string token;      ///< the offer's payment token
    std::string provider;   ///< e.g. "invoice"
    std::string method;     ///< e.g. "invoice"
    std::string policy_id;  ///< the offer's policy id
};

#if KASKO_VERSION_NUMBER >= 1003000
/// What kasko_payment_resolve found ("state").
enum class PaymentState : int {
    paid,      ///< "paid": the policy is paid (by the lost create, or by the resolve)
    pending,   ///< "pending": a payment exists and has not settled
    not_paid,  ///< "not_paid": no payment exists; safe to create again once the cause is mended
};

/// The state's name as the library writes it: "paid", "pending", "not_paid".
inline const char* payment_state_name(PaymentState state) noexcept {
    switch (state) {
    case PaymentState::paid: return "paid";
    case PaymentState::pending: return "pending";
    case PaymentState::not_paid: return "not_paid";
    }
    return "unknown";
}

/// The answer of Client::resolve_payment (kasko_payment_resolve, libkasko
/// 1.3): the library's "payment_resolution" object, read by the library.
/// Owns the call's Result (move-only); holds no payment token.
class PaymentResolution {
public:
    /// "paid", "pending" or "not_paid".
    PaymentState state() const noexcept { return state_; }
    /// The policy resolved.
    std::string policy_id() const { return result_.member_string("policy_id").value_or(std::string()); }
    /// The payment's id when an answer named it (a pending payment, or the
    /// payment this call made); std::nullopt when it was null.
    std::optional<std::string> payment_id() const { return result_.member_string("payment_id"); }
    /// True when the lost create had not paid and this call made the payment.
    bool created_by_this_call() const noexcept { return result_.member_bool("created_by_this_call").value_or(false); }
    /// Which answer decided: "policy_paid", "already_paid", "pending_payment",
    /// "created" or "create_refused".
    std::string evidence() const { return result_.member_string("evidence").value_or(std::string()); }
    /// What the library found, in words (e.g. why a create was refused).
    std::string message() const { return result_.member_string("message").value_or(std::string()); }
    /// The object as JSON text.
    std::string json() const { return result_.json(); }
    /// The call's Result: HTTP status and request id of the last answer,
    /// attempts and time of both calls together.
    const Result& result() const noexcept { return result_; }

private:
    friend class Client;
    PaymentResolution(Result result, PaymentState state) noexcept : result_(std::move(result)), state_(state) {}

    Result result_;
    PaymentState state_;
};
#endif

namespace detail {

// A C string cannot carry a NUL byte: rather than let C see a shorter
// string, refuse it with an error result made by the library.
inline const char* c_string(const std::string& value, const char* what) {
    if (has_nul(value)) {
        throw Error(Result::error(KASKO_ERR_INVALID_ARGUMENT, std::string(what) + " contains a NUL character"));
    }
    return value.c_str();
}

#if KASKO_VERSION_NUMBER >= 1003000
// kasko_webhook_verify's status as kasko::verify_webhook reports it.
inline void webhook_verdict(kasko_status status) {
    switch (status) {
    case KASKO_OK:
        return;
    case KASKO_ERR_BAD_SIGNATURE:
        throw Error(Result::error(status, "the X-KASKO-Signature header does not match the body and the secret"));
    case KASKO_ERR_INVALID_ARGUMENT:
        throw Error(Result::error(status, "the webhook secret is empty, or the X-KASKO-Signature header is not "
                                          "\"sha1=\" followed by 40 hex digits"));
    default:
        throw Error(Result::error(KASKO_ERR_INTERNAL, std::string("kasko_webhook_verify returned ")
                                                          + kasko_status_name(status)));
    }
}
#endif

// A setter's status is not needed here: given an invalid value, the options
// remember why, and the call made with them fails with the library's message
// (which is why the options, made afresh for each call, are not checked
// separately with kasko_call_options_check: the call says the same).
inline void reported_by_the_call(kasko_status) noexcept {}

// The kasko_call_options of one call (NULL for the defaults).
class NativeCallOptions {
public:
    explicit NativeCallOptions(const CallOptions& options) {
        const char* traceparent = options.traceparent ? c_string(*options.traceparent, "traceparent") : nullptr;
        const char* tracestate = options.tracestate ? c_string(*options.tracestate, "tracestate") : nullptr;
        if (options.timeout_ms == 0 && traceparent == nullptr && tracestate == nullptr) return;
        options_.reset(kasko_call_options_new());
        if (!options_) throw Error(Result::error(KASKO_ERR_INTERNAL, "out of memory"));
        if (options.timeout_ms != 0) {
            reported_by_the_call(kasko_call_options_set_timeout_ms(options_.get(), options.timeout_ms));
        }
        if (traceparent != nullptr) {
            reported_by_the_call(kasko_call_options_set_traceparent(options_.get(), traceparent));
        }
        if (tracestate != nullptr) {
            reported_by_the_call(kasko_call_options_set_tracestate(options_.get(), tracestate));
        }
    }

    const kasko_call_options* get() const noexcept { return options_.get(); }

private:
    std::unique_ptr<kasko_call_options, CallOptionsFree> options_;
};

// The Result of a call, or the Error it describes.
inline Result finish(kasko_status status, kasko_result* out) {
    Result result(out);
    if (status != KASKO_OK) throw Error(std::move(result));
    if (!result.ok()) throw Error(Result::error(KASKO_ERR_INTERNAL, "libkasko returned KASKO_OK with a failed result"));
    return result;
}

// A duration as a number of milliseconds for the C API: rounded up (a
// positive duration is never 0), and one beyond the range of long clamped
// to its end, so that it stays out of the library's range and is refused
// with the library's message (as 0, a negative one and NaN are).
template <class Rep, class Period>
long milliseconds(std::chrono::duration<Rep, Period> duration) noexcept {
    const long double exact = std::chrono::duration<long double, std::milli>(duration).count();
    if (std::isnan(exact)) return 0;
    if (exact >= static_cast<long double>(std::numeric_limits<long>::max())) return std::numeric_limits<long>::max();
    if (exact <= static_cast<long double>(std::numeric_limits<long>::min())) return std::numeric_limits<long>::min();
    if constexpr (std::is_floating_point_v<Rep>) {
        return static_cast<long>(std::ceil(exact));
    } else {
        return static_cast<long>(std::chrono::ceil<std::chrono::duration<long long, std::milli>>(duration).count());
    }
}

}  // namespace detail

#if KASKO_VERSION_NUMBER >= 1003000
/// Checks a webhook delivery's X-KASKO-Signature header
/// (kasko_webhook_verify, libkasko 1.3): returns when `header` is "sha1="
/// and the HMAC-SHA1 hex digest (either case) of `body` keyed with
/// `secret`, compared in constant time by libcrypto. `body` is the raw
/// request body, every byte as received (NUL bytes included); `secret` the
/// webhook's secret exactly as KASKO gave it (a "whsec_" prefix is part of
/// it). Throws kasko::Error with KASKO_ERR_BAD_SIGNATURE when it does not
/// match (drop the delivery: answer non-2xx), KASKO_ERR_INVALID_ARGUMENT
/// for an empty secret, a NUL in the secret or header, or a header that is
/// not exactly "sha1=" and 40 hex digits. No client, no I/O; any thread.
/// No replay protection is documented: de-duplicate by X-KASKO-Delivery.
inline void verify_webhook(const std::string& secret, std::string_view body, const std::string& header) {
    const char* key = detail::c_string(secret, "the webhook secret");
    const char* signature = detail::c_string(header, "the X-KASKO-Signature header");
    detail::webhook_verdict(kasko_webhook_verify(key, body.data(), body.size(), signature));
}
#endif

/// The keys of a client's configuration, as kasko_config_set_string() and
/// kasko_config_set_int() name them (and as the JSON configuration does):
/// the one place kasko::Config takes them from.
namespace config_key {
inline constexpr const char public_key[] = "public_key";                  ///< string
inline constexpr const char secret_key[] = "secret_key";                  ///< string
inline constexpr const char base_url[] = "base_url";                      ///< string
inline constexpr const char timeout_ms[] = "timeout_ms";                  ///< number
inline constexpr const char connect_timeout_ms[] = "connect_timeout_ms";  ///< number
inline constexpr const char max_retries[] = "max_retries";                ///< number
inline constexpr const char ca_bundle[] = "ca_bundle";                    ///< string
inline constexpr const char proxy[] = "proxy";                            ///< string
inline constexpr const char user_agent[] = "user_agent";                  ///< string
}  // namespace config_key

/// A client's configuration, owning one kasko_config (RAII, move-only):
/// set key by key with chainable setters, then given to Client(const
/// Config&). The library copies and escapes every value; this object keeps
/// none of them itself (the secret key is only in the kasko_config, which
/// the library frees).
///
///   kasko::Client client(kasko::Config()
///                            .public_key("pk_test_...")
///                            .secret_key("sk_test_...")
///                            .timeout(std::chrono::seconds(30))
///                            .max_retries(1));
///
/// Values are checked by the library when the client is made (the same
/// keys, defaults, checks and messages as the JSON configuration; see
/// kasko_client_new()): a bad one makes the Client constructor throw
/// kasko::Error with KASKO_ERR_INVALID_ARGUMENT and the library's message,
/// which names the key and never quotes a key. A std::string with a NUL
/// byte (which C cannot carry) is refused the same way, with an error result
/// made by the library, until that key is set again. One Config may make
/// many clients, also from many threads at once while nobody sets it.
class Config {
public:
    /// An empty configuration: every key at its default (a public key is
    /// required). Throws kasko::Error (KASKO_ERR_INTERNAL) if memory ran out.
    Config() : config_(kasko_config_new()) {
        if (!config_) throw Error(Result::error(KASKO_ERR_INTERNAL, "out of memory (kasko_config_new)"));
    }

    Config(const Config&) = delete;
    Config& operator=(const Config&) = delete;
    Config(Config&&) noexcept = default;
    Config& operator=(Config&&) noexcept = default;
    ~Config() = default;

    /// "public_key": pk_test_... or pk_live_... (required).
    Config& public_key(const std::string& key) & { return set_string(config_key::public_key, key); }
    Config&& public_key(const std::string& key) && { return std::move(public_key(key)); }

    /// "secret_key": sk_test_... or sk_live_..., of the public key's mode.
    /// Without it, created payments are the restricted object and views are
    /// refused by the API.
    Config& secret_key(const std::string& key) & { return set_string(config_key::secret_key, key); }
    Config&& secret_key(const std::string& key) && { return std::move(secret_key(key)); }

    /// "base_url": default "https://api.eu1.kaskocloud.com"; plain http://
    /// only for loopback hosts.
    Config& base_url(const std::string& url) & { return set_string(config_key::base_url, url); }
    Config&& base_url(const std::string& url) && { return std::move(base_url(url)); }

    /// "timeout_ms": the total time of each attempt (default 60 s), in whole
    /// milliseconds rounded up; the library accepts 1 ms to 1 h.
    template <class Rep, class Period>
    Config& timeout(std::chrono::duration<Rep, Period> duration) & {
        return set_int(config_key::timeout_ms, detail::milliseconds(duration));
    }
    template <class Rep, class Period>
    Config&& timeout(std::chrono::duration<Rep, Period> duration) && {
        return std::move(timeout(duration));
    }

    /// "connect_timeout_ms": the time to connect (default 10 s), in whole
    /// milliseconds rounded up; the library accepts 1 ms to 1 h.
    template <class Rep, class Period>
    Config& connect_timeout(std::chrono::duration<Rep, Period> duration) & {
        return set_int(config_key::connect_timeout_ms, detail::milliseconds(duration));
    }
    template <class Rep, class Period>
    Config&& connect_timeout(std::chrono::duration<Rep, Period> duration) && {
        return std::move(connect_timeout(duration));
    }

    /// "max_retries": retries after the first attempt (default 2, 0 to 10).
    Config& max_retries(long retries) & { return set_int(config_key::max_retries, retries); }
    Config&& max_retries(long retries) && { return std::move(max_retries(retries)); }

    /// "ca_bundle": a PEM file of trusted CAs (checked when the client is made).
    Config& ca_bundle(const std::string& path) & { return set_string(config_key::ca_bundle, path); }
    Config&& ca_bundle(const std::string& path) && { return std::move(ca_bundle(path)); }

    /// "proxy": a proxy URL, or "" for none. Unset: the https_proxy /
    /// no_proxy environment, as for curl.
    Config& proxy(const std::string& url) & { return set_string(config_key::proxy, url); }
    Config&& proxy(const std::string& url) && { return std::move(proxy(url)); }

    /// "user_agent": put before the library's own User-Agent.
    Config& user_agent(const std::string& agent) & { return set_string(config_key::user_agent, agent); }
    Config&& user_agent(const std::string& agent) && { return std::move(user_agent(agent)); }

    /// The C configuration, still owned by this Config (nullptr once moved from).
    const kasko_config* native_handle() const noexcept { return config_.get(); }

private:
    friend class Client;

    // A setter's status is not needed: the library remembers a refused key
    // and kasko_client_new_from_config reports it with its message.
    Config& set_string(const char* key, const std::string& value) {
        forget(key);
        if (detail::has_nul(value)) {
            refused_.emplace_back(key, std::string("configuration key \"") + key + "\" contains a NUL character");
            detail::reported_by_the_call(kasko_config_set_string(config_.get(), key, nullptr));
        } else {
            detail::reported_by_the_call(kasko_config_set_string(config_.get(), key, value.c_str()));
        }
        return *this;
    }

    Config& set_int(const char* key, long value) {
        detail::reported_by_the_call(kasko_config_set_int(config_.get(), key, value));
        return *this;
    }

    void forget(const char* key) {
        std::vector<std::pair<std::string, std::string>> kept;
        for (auto& refusal : refused_) {
            if (refusal.first != key) kept.push_back(std::move(refusal));
        }
        refused_ = std::move(kept);
    }

    // The values refused here (a NUL byte): key, message.
    std::vector<std::pair<std::string, std::string>> refused_;
    std::unique_ptr<kasko_config, detail::ConfigFree> config_;
};

#if KASKO_VERSION_NUMBER >= 1002000

namespace detail {
struct EventAccess;
}  // namespace detail

/// What an Event reports (its "event" member).
enum class EventKind : int {
    attempt,   ///< one HTTP attempt ended ("attempt")
    call_end,  ///< the call ended ("call_end"): after its last attempt, or refused before any
    other,     ///< a kind newer than this header
};

/// One event of a client's calls, as the event hook sees it
/// (Client::set_event_hook, libkasko 1.2): a view of the library's borrowed
/// event result, valid only while the hook runs. It cannot be copied or
/// kept: copy what you need out of it (every getter returns a copy, and
/// json() is the whole event as one log line). No event holds the secret
/// key, the public key, a payment token or a body.
class Event {
public:
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    ~Event() = default;

    /// attempt or call_end.
    EventKind kind() const noexcept {
        const char* value = nullptr;
        std::size_t length = 0;
        if (kasko_result_member_string(event_, "event", &value, &length) != KASKO_OK) return EventKind::other;
        const std::string name(value, length);
        if (name == "attempt") return EventKind::attempt;
        if (name == "call_end") return EventKind::call_end;
        return EventKind::other;
    }

    /// "payment_create" or "payment_get".
    std::string operation() const { return string("operation"); }
    /// The HTTP method: "POST", "GET".
    std::string method() const { return string("method"); }
    /// The route template, for metrics: "/payments" or "/payments/{id}".
    std::string route() const { return string("route"); }
    /// The base URL's path with the route filled in (never the query).
    std::string path() const { return string("path"); }

    /// The attempt's number (from 1); for call_end the attempts made (0 for
    /// a call refused before any I/O).
    int attempt() const noexcept { return kasko_result_attempts(event_); }

    /// The HTTP status of the answer, std::nullopt without one.
    std::optional<int> http_status() const noexcept {
        int status = kasko_result_http_status(event_);
        if (status == 0) return std::nullopt;
        return status;
    }

    /// The attempt's (or call's) status, KASKO_OK for a success.
    kasko_status status() const noexcept { return kasko_result_status(event_); }
    /// The status's name, e.g. "KASKO_ERR_SERVER".
    const char* code() const noexcept { return kasko_status_name(status()); }
    /// Whether the attempt (or call) may have taken effect.
    Outcome outcome() const noexcept { return static_cast<Outcome>(kasko_result_outcome(event_)); }

    /// Whether another attempt follows this one.
    bool retry() const noexcept { return detail::member_bool(event_, "retry").value_or(false); }
    /// The wait before the next attempt; std::nullopt unless retry().
    std::optional<std::chrono::milliseconds> retry_delay() const noexcept {
        auto ms = detail::member_int64(event_, "retry_delay_ms");
        if (!ms) return std::nullopt;
        return std::chrono::milliseconds(*ms);
    }

    /// The response's X-Request-Id, if there was one.
    std::optional<std::string> request_id() const { return detail::optional_string(kasko_result_request_id(event_)); }

    /// Bytes sent (headers and body); for call_end the sum over the attempts.
    std::int64_t bytes_sent() const noexcept { return detail::member_int64(event_, "bytes_sent").value_or(0); }
    /// Bytes received (headers and body); for call_end the sum over the attempts.
    std::int64_t bytes_received() const noexcept {
        return detail::member_int64(event_, "bytes_received").value_or(0);
    }

    // libcurl's times from the start of the attempt (zero for a phase that
    // did not happen); std::nullopt for call_end.
    /// Name resolution done.
    std::optional<std::chrono::microseconds> dns() const noexcept { return micros("dns_us"); }
    /// Connected.
    std::optional<std::chrono::microseconds> connect() const noexcept { return micros("connect_us"); }
    /// TLS handshake done (zero over plain http).
    std::optional<std::chrono::microseconds> tls() const noexcept { return micros("tls_us"); }
    /// First byte of the answer.
    std::optional<std::chrono::microseconds> first_byte() const noexcept { return micros("first_byte_us"); }
    /// The attempt's time; for call_end the call's wall time (as
    /// Result::total_time() gives it).
    std::chrono::microseconds total() const noexcept { return micros("total_us").value_or(std::chrono::microseconds(0)); }

    /// What went wrong; empty on success.
    std::string message() const {
        const char* text = kasko_result_message(event_);
        return text != nullptr ? std::string(text) : std::string();
    }

    /// The whole event as JSON text: one log line.
    std::string json() const {
        const char* text = kasko_result_json(event_);
        return text != nullptr ? std::string(text) : std::string();
    }

    /// Any top-level member, as Result's member_*() read it (for members
    /// newer than this header).
    JsonType member_type(const std::string& name) const noexcept { return detail::member_type(event_, name); }
    std::optional<std::string> member_string(const std::string& name) const {
        return detail::member_string(event_, name);
    }
    std::optional<std::int64_t> member_int64(const std::string& name) const noexcept {
        return detail::member_int64(event_, name);
    }
    std::optional<double> member_double(const std::string& name) const noexcept {
        return detail::member_double(event_, name);
    }
    std::optional<bool> member_bool(const std::string& name) const noexcept {
        return detail::member_bool(event_, name);
    }
    std::optional<std::string> member_json(const std::string& name) const { return detail::member_json(event_, name); }

    /// The borrowed C event: valid only while the hook runs; never free it.
    const kasko_result* native_handle() const noexcept { return event_; }

private:
    friend struct detail::EventAccess;
    explicit Event(const kasko_result* event) noexcept : event_(event) {}

    std::string string(const char* name) const { return detail::member_string(event_, name).value_or(std::string()); }

    std::optional<std::chrono::microseconds> micros(const char* name) const noexcept {
        auto us = detail::member_int64(event_, name);
        if (!us) return std::nullopt;
        return std::chrono::microseconds(*us);
    }

    const kasko_result* event_;
};

/// An event hook: called once per attempt and once per call end, on the
/// thread making the call, from many threads at once.
using EventHook = std::function<void(const Event&)>;

namespace detail {

// Makes the Event a hook is given.
struct EventAccess {
    static Event make(const kasko_result* event) noexcept { return Event(event); }
};

// How deep this thread is inside event hooks of kasko::Client (a hook
// cannot set a hook: the library would wait for the hook itself).
inline thread_local int hook_depth = 0;

// What the library holds as the hook's user data: the std::function, and
// where to count the exceptions it threw.
struct HookState {
    EventHook hook;
    std::atomic<std::uint64_t>* exceptions;
};

// A client's hook, owned by the Client: the installed HookState (freed only
// once kasko_client_set_event_hook has replaced it and returned), under a
// mutex that orders the setters.
struct Hooks {
    std::mutex mutex;
    std::unique_ptr<HookState> current;
    std::atomic<std::uint64_t> exceptions{0};
};

// The kasko_event_hook of every kasko::Client: calls the std::function and
// never lets an exception reach the library's frames.
inline void deliver_event(const kasko_result* event, void* user_data) noexcept {
    auto* state = static_cast<HookState*>(user_data);
    ++hook_depth;
    try {
        const Event view = EventAccess::make(event);
        state->hook(view);
    } catch (...) {
        state->exceptions->fetch_add(1, std::memory_order_relaxed);
    }
    --hook_depth;
}

}  // namespace detail

#endif  // KASKO_VERSION_NUMBER >= 1002000

/// A client of the KASKO Payments API, owning one kasko_client.
class Client {
public:
    /// Creates a client from the C API's JSON configuration ("public_key",
    /// "secret_key", "base_url", "timeout_ms", ...; see kasko_client_new_v2()).
    /// Throws kasko::Error: KASKO_ERR_INVALID_ARGUMENT for a bad configuration,
    /// whose what() is the library's message saying why (it never quotes a
    /// key) and whose result() is the library's error result, as for a call.
    explicit Client(const std::string& config_json) {
        const char* config = detail::c_string(config_json, "config_json");
        kasko_client* handle = nullptr;
        kasko_result* out = nullptr;
        kasko_status status = kasko_client_new_v2(config, &handle, &out);
        handle_ = adopt(status, handle, out, "kasko_client_new_v2");
        make_hooks();
    }

    /// Creates a client from a kasko::Config (kasko_client_new_from_config):
    /// the same checks and messages as the JSON configuration. Throws
    /// kasko::Error: KASKO_ERR_INVALID_ARGUMENT for a refused key or value,
    /// whose what() is the library's message (it names the key, never quotes
    /// a key) and whose result() is the library's error result. The Config
    /// may be freed or reused afterwards.
    explicit Client(const Config& config) {
        if (!config.refused_.empty()) {
            throw Error(Result::error(KASKO_ERR_INVALID_ARGUMENT, config.refused_.front().second));
        }
        kasko_client* handle = nullptr;
        kasko_result* out = nullptr;
        kasko_status status = kasko_client_new_from_config(config.native_handle(), &handle, &out);
        handle_ = adopt(status, handle, out, "kasko_client_new_from_config");
        make_hooks();
    }

    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Client(Client&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {
#if KASKO_VERSION_NUMBER >= 1002000
        hooks_ = std::move(other.hooks_);
#endif
    }

    Client& operator=(Client&& other) noexcept {
        if (this != &other) {
            kasko_client_free(handle_);  // first: then the old hook is never called again
            handle_ = std::exchange(other.handle_, nullptr);
#if KASKO_VERSION_NUMBER >= 1002000
            hooks_ = std::move(other.hooks_);
#endif
        }
        return *this;
    }

    /// Frees the handle (and then the event hook); no call on this client
    /// may be running.
    ~Client() { kasko_client_free(handle_); }

    /// Creates a payment (kasko_payment_create_v2). The Result's json() is
    /// the payment object as the API sent it. Throws kasko::Error.
    Result create_payment(const PaymentRequest& request, const CallOptions& options = {}) const {
        const char* token = detail::c_string(request.token, "payment request field \"token\"");
        const char* provider = detail::c_string(request.provider, "payment request field \"provider\"");
        const char* method = detail::c_string(request.method, "payment request field \"method\"");
        const char* policy_id = detail::c_string(request.policy_id, "payment request field \"policy_id\"");
        detail::NativeCallOptions native(options);
        kasko_result* out = nullptr;
        kasko_status status = kasko_payment_create_v2(handle_, token, provider, method, policy_id, native.get(), &out);
        return detail::finish(status, out);
    }

    /// Views a payment (kasko_payment_get_v2). The Result's json() is the
    /// payment object as the API sent it. Throws kasko::Error.
    Result get_payment(const std::string& payment_id, const CallOptions& options = {}) const {
        const char* id = detail::c_string(payment_id, "payment id");
        detail::NativeCallOptions native(options);
        kasko_result* out = nullptr;
        kasko_status status = kasko_payment_get_v2(handle_, id, native.get(), &out);
        return detail::finish(status, out);
    }

#if KASKO_VERSION_NUMBER >= 1003000
    // ---- checkout (libkasko 1.3) -------------------------------------------
    // The request JSON is passed through as text: the library checks it
    // (a JSON object with the required members) before any I/O, so the
    // binding writes and reads no JSON.

    /// Prices an insurance (kasko_quote_create_v2, `POST /quotes`): the
    /// Result's json() is the quote, member_string("token") its token for
    /// create_offer. `request_json` has "item_id", "subscription_plan_id",
    /// "integration_id" and the object "data". Throws kasko::Error (a 400's
    /// "errors" array is in error.result().member_json("errors")).
    Result create_quote(const std::string& request_json, const CallOptions& options = {}) const {
        const char* request = detail::c_string(request_json, "quote request");
        detail::NativeCallOptions native(options);
        kasko_result* out = nullptr;
        kasko_status status = kasko_quote_create_v2(handle_, request, native.get(), &out);
        return detail::finish(status, out);
    }

    /// Makes an offer, an unpaid policy (kasko_offer_create_v2, `POST
    /// /policies`): member_string("id") is the policy id and
    /// member_string("payment_token") the payment token (absent with manual
    /// underwriting). Treat the token like a key. `request_json` has
    /// "quote_token", "first_name", "last_name", "email", "language" and
    /// optionally "data" and "metadata". Sent at most once. Throws kasko::Error.
    Result create_offer(const std::string& request_json, const CallOptions& options = {}) const {
        const char* request = detail::c_string(request_json, "offer request");
        detail::NativeCallOptions native(options);
        kasko_result* out = nullptr;
        kasko_status status = kasko_offer_create_v2(handle_, request, native.get(), &out);
        return detail::finish(status, out);
    }

    /// Views an offer (kasko_offer_get_v2, `GET /offers/{id}`, needs the
    /// secret key): its "status" and, once payable, its "payment_token".
    /// Throws kasko::Error.
    Result get_offer(const std::string& policy_id, const CallOptions& options = {}) const {
        const char* id = detail::c_string(policy_id, "policy id");
        detail::NativeCallOptions native(options);
        kasko_result* out = nullptr;
        kasko_status status = kasko_offer_get_v2(handle_, id, native.get(), &out);
        return detail::finish(status, out);
    }

    /// Views a policy (kasko_policy_get_v2, `GET /policies/{id}`, needs the
    /// secret key): "status" is "pending" until KASKO has created the policy
    /// after its payment, then "paid". Result::etag() and
    /// Result::last_modified() are the response's headers. Throws kasko::Error.
    Result get_policy(const std::string& policy_id, const CallOptions& options = {}) const {
        const char* id = detail::c_string(policy_id, "policy id");
        detail::NativeCallOptions native(options);
        kasko_result* out = nullptr;
        kasko_status status = kasko_policy_get_v2(handle_, id, native.get(), &out);
        return detail::finish(status, out);
    }

    /// Finds out what became of a create_payment whose outcome was unknown
    /// (kasko_payment_resolve), never making a second payment: pass the same
    /// request. Views the policy; unless it is paid, sends the identical
    /// create once, whose refusals say what the lost one did. Throws
    /// kasko::Error when nothing was settled (the policy view or the repeated
    /// create got no usable answer): resolving again later stays safe.
    PaymentResolution resolve_payment(const PaymentRequest& request, const CallOptions& options = {}) const {
        const char* token = detail::c_string(request.token, "payment request field \"token\"");
        const char* provider = detail::c_string(request.provider, "payment request field \"provider\"");
        const char* method = detail::c_string(request.method, "payment request field \"method\"");
        const char* policy_id = detail::c_string(request.policy_id, "payment request field \"policy_id\"");
        detail::NativeCallOptions native(options);
        kasko_result* out = nullptr;
        kasko_status status = kasko_payment_resolve(handle_, token, provider, method, policy_id, native.get(), &out);
        Result result = detail::finish(status, out);
        const std::optional<std::string> state = result.member_string("state");
        PaymentState parsed;
        if (state == std::string("paid")) {
            parsed = PaymentState::paid;
        } else if (state == std::string("pending")) {
            parsed = PaymentState::pending;
        } else if (state == std::string("not_paid")) {
            parsed = PaymentState::not_paid;
        } else {
            throw Error(Result::error(KASKO_ERR_INTERNAL, "kasko_payment_resolve returned no known \"state\": "
                                                              + state.value_or("(none)")));
        }
        return PaymentResolution(std::move(result), parsed);
    }
#endif

#if KASKO_VERSION_NUMBER >= 1002000
    /// Sets the client's event hook (kasko_client_set_event_hook, libkasko
    /// 1.2), replacing the one before; an empty function (or nullptr) clears
    /// it. The hook is called with each event of this client's calls: one
    /// per attempt and one when the call ends (see kasko::Event), on the
    /// thread making the call, so from many threads at once when the client
    /// is shared: it must be safe to call so. It may log, count, block and
    /// make library calls (calls made inside a hook deliver no events).
    ///
    /// An exception thrown by the hook never reaches the library: it is
    /// caught and dropped, the call goes on and returns its own result, and
    /// event_hook_exceptions() counts it.
    ///
    /// May be called at any time from any thread, while calls run: events
    /// of calls in progress go to the old hook or the new one. Once it has
    /// returned, the old hook is not running and is never called again, and
    /// it has been destroyed (here, on this thread, after the library let
    /// go of it). The Client owns the std::function until it is replaced,
    /// cleared or the Client is destroyed.
    ///
    /// Throws kasko::Error (KASKO_ERR_INVALID_ARGUMENT, nothing changed)
    /// when called from inside an event hook (it would wait for itself) or
    /// on a moved-from Client.
    void set_event_hook(EventHook hook) const {
        if (detail::hook_depth > 0) {
            throw Error(Result::error(KASKO_ERR_INVALID_ARGUMENT,
                                      "kasko::Client::set_event_hook called from inside an event hook"));
        }
        if (!hooks_ || handle_ == nullptr) {
            throw Error(Result::error(KASKO_ERR_INVALID_ARGUMENT,
                                      "kasko::Client::set_event_hook on a moved-from client"));
        }
        std::unique_ptr<detail::HookState> next;
        if (hook) next.reset(new detail::HookState{std::move(hook), &hooks_->exceptions});
        std::unique_ptr<detail::HookState> previous;
        {
            std::lock_guard<std::mutex> lock(hooks_->mutex);
            kasko_status status = kasko_client_set_event_hook(handle_, next ? &detail::deliver_event : nullptr,
                                                              next.get());
            if (status != KASKO_OK) {
                throw Error(Result::error(status, std::string("kasko_client_set_event_hook returned ")
                                                      + kasko_status_name(status)));
            }
            previous = std::exchange(hooks_->current, std::move(next));
        }
        // The library no longer calls it: destroyed outside the lock, so its
        // captures' destructors may do anything (set another hook included).
        previous.reset();
    }

    /// Clears the event hook: set_event_hook(nullptr).
    void clear_event_hook() const { set_event_hook(nullptr); }

    /// How many exceptions this client's event hooks have thrown (caught
    /// and dropped, see set_event_hook). 0 for a moved-from Client.
    std::uint64_t event_hook_exceptions() const noexcept {
        return hooks_ ? hooks_->exceptions.load(std::memory_order_relaxed) : 0;
    }
#endif

    /// The C handle, still owned by this Client (nullptr once moved from).
    kasko_client* native_handle() const noexcept { return handle_; }

private:
    void make_hooks() {
#if KASKO_VERSION_NUMBER >= 1002000
        try {
            hooks_ = std::make_unique<detail::Hooks>();
        } catch (...) {
            kasko_client_free(std::exchange(handle_, nullptr));
            throw;
        }
#endif
    }

    // The client a constructor made, or the Error of its refusal.
    static kasko_client* adopt(kasko_status status, kasko_client* handle, kasko_result* out, const char* made_by) {
        Result refusal(out);  // NULL on success
        if (status == KASKO_OK && handle != nullptr) return handle;
        kasko_client_free(handle);  // NULL per the contract; never leak one
        if (status == KASKO_OK) {
            throw Error(Result::error(KASKO_ERR_INTERNAL, std::string(made_by) + " returned KASKO_OK but no client"));
        }
        if (refusal.native_handle() == nullptr) {
            throw Error(Result::error(KASKO_ERR_INTERNAL, std::string(made_by) + " returned "
                                                              + kasko_status_name(status) + " and no result"));
        }
        throw Error(std::move(refusal));
    }

    kasko_client* handle_ = nullptr;
#if KASKO_VERSION_NUMBER >= 1002000
    // Destroyed after ~Client's kasko_client_free: no hook runs by then.
    std::unique_ptr<detail::Hooks> hooks_;
#endif
};

}  // namespace kasko

#endif  // KASKO_HPP
