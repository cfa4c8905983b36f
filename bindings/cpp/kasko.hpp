// kasko.hpp - the C++17 binding of libkasko (C API 1.1), header-only.
//
//   #include <kasko.hpp>
//
//   kasko::Client client(R"({"public_key":"pk_test_...","secret_key":"sk_test_..."})");
//   kasko::Result created = client.create_payment({"ptok_...", "invoice", "invoice", "tpol_..."});
//   std::string id = created.member_string("id").value_or("");
//   kasko::CallOptions options;
//   options.timeout_ms = 5000;
//   options.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
//   kasko::Result same = client.get_payment(id, options);
//   std::cout << same.json() << " (HTTP " << same.http_status().value_or(0) << ")\n";
//
// A thin layer over <kasko.h>: it translates types and ownership only.
// Configuration is the C API's JSON text; validation, retries, the JSON
// shapes and every message are the library's.
//
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
//
// Needs kasko.h 1.1 or later (and so libkasko.so.1 of 1.1 or later, whose
// KASKO_1.1 symbols it uses). Link with -lkasko (pkg-config --cflags --libs kasko).
#ifndef KASKO_HPP
#define KASKO_HPP

#if !defined(__cplusplus) || __cplusplus < 201703L
#error "kasko.hpp needs C++17"
#endif

#include <kasko.h>

#if !defined(KASKO_VERSION_NUMBER) || KASKO_VERSION_NUMBER < 1001000
#error "kasko.hpp needs kasko.h 1.1 or later"
#endif

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

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

inline bool has_nul(const std::string& value) noexcept { return value.find('\0') != std::string::npos; }

inline std::optional<std::string> optional_string(const char* value) {
    if (value == nullptr) return std::nullopt;
    return std::string(value);
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

    // ---- top-level members of json(), read by the library ----------------
    // std::nullopt: no such member, another type, or the name appears more
    // than once (member_type() says JsonType::none for that too). A name with
    // a NUL byte matches no member.

    /// The member's type; JsonType::none if absent or ambiguous.
    JsonType member_type(const std::string& name) const noexcept {
        if (detail::has_nul(name)) return JsonType::none;
        return static_cast<JsonType>(kasko_result_member_type(result_.get(), name.c_str()));
    }

    /// A string member, unescaped (UTF-8; a "\u0000" in it stays a NUL byte).
    std::optional<std::string> member_string(const std::string& name) const {
        if (detail::has_nul(name)) return std::nullopt;
        const char* value = nullptr;
        std::size_t length = 0;
        if (kasko_result_member_string(result_.get(), name.c_str(), &value, &length) != KASKO_OK) {
            return std::nullopt;
        }
        return std::string(value, length);
    }

    /// An integer member within int64 (not 1.5, not 1e3).
    std::optional<std::int64_t> member_int64(const std::string& name) const noexcept {
        if (detail::has_nul(name)) return std::nullopt;
        std::int64_t value = 0;
        if (kasko_result_member_int64(result_.get(), name.c_str(), &value) != KASKO_OK) return std::nullopt;
        return value;
    }

    /// A number member, as a finite double.
    std::optional<double> member_double(const std::string& name) const noexcept {
        if (detail::has_nul(name)) return std::nullopt;
        double value = 0;
        if (kasko_result_member_double(result_.get(), name.c_str(), &value) != KASKO_OK) return std::nullopt;
        return value;
    }

    /// A true/false member.
    std::optional<bool> member_bool(const std::string& name) const noexcept {
        if (detail::has_nul(name)) return std::nullopt;
        int value = 0;
        if (kasko_result_member_bool(result_.get(), name.c_str(), &value) != KASKO_OK) return std::nullopt;
        return value != 0;
    }

    /// Any member's value as JSON text (e.g. the "_links" object).
    std::optional<std::string> member_json(const std::string& name) const {
        if (detail::has_nul(name)) return std::nullopt;
        const char* value = nullptr;
        std::size_t length = 0;
        if (kasko_result_member_json(result_.get(), name.c_str(), &value, &length) != KASKO_OK) {
            return std::nullopt;
        }
        return std::string(value, length);
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

namespace detail {

// A C string cannot carry a NUL byte: rather than let C see a shorter
// string, refuse it with an error result made by the library.
inline const char* c_string(const std::string& value, const char* what) {
    if (has_nul(value)) {
        throw Error(Result::error(KASKO_ERR_INVALID_ARGUMENT, std::string(what) + " contains a NUL character"));
    }
    return value.c_str();
}

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

}  // namespace detail

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
        Result refusal(out);  // NULL on success
        if (status != KASKO_OK || handle == nullptr) {
            kasko_client_free(handle);  // NULL per the contract; never leak one
            if (status == KASKO_OK) {
                throw Error(Result::error(KASKO_ERR_INTERNAL, "kasko_client_new_v2 returned KASKO_OK but no client"));
            }
            if (refusal.native_handle() == nullptr) {
                throw Error(Result::error(KASKO_ERR_INTERNAL,
                                          std::string("kasko_client_new_v2 returned ") + kasko_status_name(status)
                                              + " and no result"));
            }
            throw Error(std::move(refusal));
        }
        handle_ = handle;
    }

    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Client(Client&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

    Client& operator=(Client&& other) noexcept {
        if (this != &other) {
            kasko_client_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }

    /// Frees the handle; no call on this client may be running.
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

    /// The C handle, still owned by this Client (nullptr once moved from).
    kasko_client* native_handle() const noexcept { return handle_; }

private:
    kasko_client* handle_ = nullptr;
};

}  // namespace kasko

#endif  // KASKO_HPP
