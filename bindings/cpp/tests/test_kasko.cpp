// Tests of kasko.hpp against a running kasko-sandbox (KASKO_SANDBOX_URL).
//
//   scripts/check-bindings cpp
//
// which compiles it with g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror
// (linking -lkasko and libcurl) and runs it under scripts/with-sandbox.
//
// libcurl is used here only to ask the sandbox for offers.
#include <kasko.hpp>

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

static_assert(!std::is_copy_constructible_v<kasko::Client>, "Client is move-only");
static_assert(!std::is_copy_assignable_v<kasko::Client>, "Client is move-only");
static_assert(std::is_nothrow_move_constructible_v<kasko::Client>, "Client moves without throwing");
static_assert(std::is_nothrow_move_assignable_v<kasko::Client>, "Client moves without throwing");
static_assert(std::is_base_of_v<std::runtime_error, kasko::Error>, "Error is a runtime_error");
static_assert(std::is_nothrow_copy_constructible_v<kasko::Error>, "Error copies without throwing");
static_assert(!std::is_copy_constructible_v<kasko::Result>, "Result is move-only");
static_assert(!std::is_copy_assignable_v<kasko::Result>, "Result is move-only");
static_assert(std::is_nothrow_move_constructible_v<kasko::Result>, "Result moves without throwing");
static_assert(std::is_nothrow_move_assignable_v<kasko::Result>, "Result moves without throwing");
static_assert(std::is_copy_constructible_v<kasko::CallOptions>, "CallOptions is a plain value");
static_assert(!std::is_copy_constructible_v<kasko::Config>, "Config is move-only");
static_assert(!std::is_copy_assignable_v<kasko::Config>, "Config is move-only");
static_assert(std::is_nothrow_move_constructible_v<kasko::Config>, "Config moves without throwing");
static_assert(std::is_nothrow_move_assignable_v<kasko::Config>, "Config moves without throwing");
static_assert(!std::is_convertible_v<const kasko::Config&, kasko::Client>, "Client(const Config&) is explicit");
static_assert(static_cast<int>(kasko::Outcome::succeeded) == KASKO_OUTCOME_SUCCEEDED
                  && static_cast<int>(kasko::Outcome::not_sent) == KASKO_OUTCOME_NOT_SENT
                  && static_cast<int>(kasko::Outcome::rejected) == KASKO_OUTCOME_REJECTED
                  && static_cast<int>(kasko::Outcome::unknown) == KASKO_OUTCOME_UNKNOWN,
              "Outcome mirrors kasko_outcome");
static_assert(static_cast<int>(kasko::JsonType::none) == KASKO_JSON_NONE
                  && static_cast<int>(kasko::JsonType::object) == KASKO_JSON_OBJECT,
              "JsonType mirrors kasko_json_type");

namespace {

int passed = 0;
int failed = 0;

struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void expect(bool condition, const std::string& what) {
    if (!condition) throw Failure(what);
}

void run(const char* name, const std::function<void()>& body) {
    try {
        body();
        ++passed;
        std::cout << "ok   " << name << "\n";
    } catch (const kasko::Error& e) {
        ++failed;
        std::cout << "FAIL " << name << ": unexpected kasko::Error " << e.code() << ": " << e.what() << " "
                  << e.json() << "\n";
    } catch (const std::exception& e) {
        ++failed;
        std::cout << "FAIL " << name << ": " << e.what() << "\n";
    }
}

// Runs body, which must throw kasko::Error, and returns that error.
kasko::Error expect_error(const std::function<void()>& body, const std::string& what) {
    try {
        body();
    } catch (const kasko::Error& e) {
        return e;
    }
    throw Failure(what + ": no kasko::Error was thrown");
}

std::string env(const char* name, const char* fallback = nullptr) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
    if (fallback != nullptr) return fallback;
    throw std::runtime_error(std::string(name) + " is not set: run me under scripts/with-sandbox");
}

// The string member `key` of a flat JSON object (test data only: ids are
// plain ASCII, so no unescaping is needed).
std::string field(const std::string& json, const std::string& key) {
    std::string pattern = "\"" + key + "\":\"";
    std::size_t at = json.find(pattern);
    if (at == std::string::npos) throw Failure("no \"" + key + "\" in " + json);
    at += pattern.size();
    std::size_t end = json.find('"', at);
    if (end == std::string::npos) throw Failure("unterminated \"" + key + "\" in " + json);
    return json.substr(at, end - at);
}

size_t collect(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

struct Offer {
    std::string policy_id;
    std::string token;
};

// POSTs a JSON body to the sandbox; returns the HTTP status, `body` the answer.
long post(const std::string& path, const std::string& json, std::string& body) {
    std::string url = env("KASKO_SANDBOX_URL") + path;
    CURL* curl = curl_easy_init();
    if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode result = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (result != CURLE_OK) throw std::runtime_error("POST " + url + " failed: " + curl_easy_strerror(result));
    return status;
}

Offer new_offer() {
    std::string body;
    long status = post("/__sandbox/offers", "{}", body);
    if (status != 201) throw std::runtime_error("POST /__sandbox/offers failed: " + std::to_string(status) + " " + body);
    return Offer{field(body, "policy_id"), field(body, "token")};
}

// Arms a sandbox fault (docs/sandbox-faults.md) for the next `times` requests
// whose fault key is `key` (a view's payment id). Needs a sandbox started
// with --faults, as scripts/check-bindings starts it.
void arm_fault(const std::string& key, const std::string& fault_json, int times) {
    std::string body;
    long status = post("/__sandbox/faults",
                       "{\"key\":\"" + key + "\",\"fault\":" + fault_json + ",\"times\":" + std::to_string(times) + "}",
                       body);
    if (status != 201) {
        throw std::runtime_error("arming " + fault_json + " on " + key + ": HTTP " + std::to_string(status)
                                 + " (is the sandbox running with --faults?) " + body);
    }
}

kasko::PaymentRequest request(const Offer& offer, const std::string& provider) {
    return kasko::PaymentRequest{offer.token, provider, provider, offer.policy_id};
}

// The "id" of a payment result, read by the library.
std::string id_of(const kasko::Result& payment) {
    std::optional<std::string> id = payment.member_string("id");
    if (!id || id->empty()) throw Failure("no \"id\" in " + payment.json());
    return *id;
}

std::string config(bool with_secret = true) {
    std::string json = "{\"public_key\":\"" + env("KASKO_SANDBOX_PUBLIC_KEY", "pk_test_sandbox") + "\"";
    if (with_secret) json += ",\"secret_key\":\"" + env("KASKO_SANDBOX_SECRET_KEY", "sk_test_sandbox") + "\"";
    return json + ",\"base_url\":\"" + env("KASKO_SANDBOX_URL") + "\",\"max_retries\":0}";
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// The sandbox's configuration as a kasko::Config: no JSON written.
kasko::Config typed_config(bool with_secret = true) {
    kasko::Config config;
    config.public_key(env("KASKO_SANDBOX_PUBLIC_KEY", "pk_test_sandbox")).base_url(env("KASKO_SANDBOX_URL")).max_retries(0);
    if (with_secret) config.secret_key(env("KASKO_SANDBOX_SECRET_KEY", "sk_test_sandbox"));
    return config;
}

std::string sandbox_secret() { return env("KASKO_SANDBOX_SECRET_KEY", "sk_test_sandbox"); }

const char* const unknown_id = "t00000000000000000000000000000000";
const char* const valid_traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// An error the call refused before any I/O: nothing sent, nothing to retry.
void expect_refused_before_io(const kasko::Error& e, const std::string& what) {
    expect(e.status() == KASKO_ERR_INVALID_ARGUMENT, what + ": status " + e.code() + " " + e.what());
    expect(e.outcome() == kasko::Outcome::not_sent, what + ": outcome " + kasko::outcome_name(e.outcome()));
    expect(e.attempts() == 0 && !e.retryable() && !e.http_status() && !e.pending_payment_id(), what + ": " + e.json());
    expect(e.result().member_string("code") == std::string("KASKO_ERR_INVALID_ARGUMENT"), what + ": " + e.json());
}

// ---- checkout (libkasko 1.3) ---------------------------------------------
// Against the sandbox's checkout routes (docs/sandbox.md). No test prints an
// offer's JSON, which holds its payment token.

// GETs a sandbox path; returns the HTTP status, `body` the answer.
long get(const std::string& path, std::string& body) {
    std::string url = env("KASKO_SANDBOX_URL") + path;
    CURL* curl = curl_easy_init();
    if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode result = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (result != CURLE_OK) throw std::runtime_error("GET " + url + " failed: " + curl_easy_strerror(result));
    return status;
}

// How many payments the sandbox ever created on a policy (its counter).
int payments_on(const std::string& policy_id) {
    std::string body;
    long status = get("/__sandbox/policies/" + policy_id + "/payments", body);
    if (status != 200) throw Failure("payment counter of " + policy_id + ": HTTP " + std::to_string(status) + " " + body);
    std::size_t at = body.find("\"payments\":[");
    if (at == std::string::npos) throw Failure("no payments array: " + body);
    std::size_t end = body.find(']', at);
    int count = 0;
    for (std::size_t i = at; i < end; ++i) {
        if (body[i] == ',') ++count;
    }
    return body.compare(at + 12, 1, "]") == 0 ? 0 : count + 1;
}

// Arms a fault for one route only (payment_create, policy_view, ...).
void arm_route_fault(const std::string& key, const std::string& route, const std::string& fault_json, int times) {
    std::string body;
    long status = post("/__sandbox/faults",
                       "{\"key\":\"" + key + "\",\"route\":\"" + route + "\",\"fault\":" + fault_json
                           + ",\"times\":" + std::to_string(times) + "}",
                       body);
    if (status != 201) throw std::runtime_error("arming " + fault_json + " on " + route + ": HTTP " + std::to_string(status) + " " + body);
}

const char* const travel_quote =
    "{\"item_id\":\"ins_sandbox_travel\",\"subscription_plan_id\":\"pp_sandbox_single\","
    "\"integration_id\":\"in_sandbox_travel\",\"data\":{\"trip_cost\":100000,\"policy_start_date\":\"2027-01-15\"}}";

std::string offer_request(const std::string& quote_token) {
    return "{\"quote_token\":\"" + quote_token
           + "\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"ada@example.com\",\"language\":\"de\"}";
}

// A quote and an offer made through the binding: the offer's policy id and payment token.
Offer checkout_offer(const kasko::Client& client) {
    kasko::Result quote = client.create_quote(travel_quote);
    std::optional<std::string> quote_token = quote.member_string("token");
    expect(quote_token && quote_token->rfind("qtok_", 0) == 0, "a quote token: " + quote.json());
    kasko::Result offer = client.create_offer(offer_request(*quote_token));
    std::optional<std::string> id = offer.member_string("id");
    std::optional<std::string> token = offer.member_string("payment_token");
    expect(id && id->rfind("tpol_", 0) == 0, "an offer id");  // the JSON holds the token: not printed
    expect(token && token->rfind("ptok_", 0) == 0, "an offer payment token");
    return Offer{*id, *token};
}

// Views the policy until its status is `status`, for at most 10 s.
kasko::Result policy_with_status(const kasko::Client& client, const std::string& policy_id, const std::string& status) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        kasko::Result policy = client.get_policy(policy_id);
        if (policy.member_string("status") == status) return policy;
        if (std::chrono::steady_clock::now() > deadline) {
            throw Failure("policy " + policy_id + " not " + status + " within 10 s: " + policy.json());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void run_checkout_tests() {
    run("checkout: create_quote, create_offer, get_offer, get_policy with etag and last_modified", [] {
        kasko::Client client(config());
        kasko::Result quote = client.create_quote(travel_quote);
        expect(quote.http_status() == 200 && quote.member_int64("gross_payment_amount") == 4000, quote.json());
        expect(quote.member_type("extra_data") == kasko::JsonType::object, quote.json());
        // The sandbox's quote token is deterministic.
        expect(client.create_quote(travel_quote).member_string("token") == quote.member_string("token"), "same token");
        kasko::Result offer = client.create_offer(offer_request(*quote.member_string("token")));
        expect(offer.http_status() == 201, "offer created: HTTP " + std::to_string(offer.http_status().value_or(0)));
        const std::string id = *offer.member_string("id");
        expect(id.rfind("tpol_", 0) == 0 && offer.member_string("payment_token").value_or("").rfind("ptok_", 0) == 0,
               "id and payment token");
        expect(!offer.etag() && !offer.last_modified(), "only policy views have an ETag");

        kasko::Result viewed = client.get_offer(id);
        expect(viewed.member_string("id") == id && viewed.member_string("status") == std::string("ready"),
               "the offer is ready, status " + viewed.member_string("status").value_or("?"));
        expect(viewed.member_string("payment_token") == offer.member_string("payment_token"), "the same token");

        kasko::CallOptions options;
        options.traceparent = valid_traceparent;
        kasko::Result policy = client.get_policy(id, options);
        expect(policy.member_string("id") == id && policy.member_string("status") == std::string("pending"), policy.json());
        expect(policy.etag() && policy.etag()->rfind("tpv_", 0) == 0, "an ETag: " + policy.etag().value_or("(none)"));
        expect(policy.etag() == policy.member_string("version_id"), "the ETag is the version id");
        expect(policy.last_modified() && contains(*policy.last_modified(), "GMT"),
               "Last-Modified: " + policy.last_modified().value_or("(none)"));
    });

    run("checkout: each call's documented errors", [] {
        kasko::Client client(config());
        // 400 with the server's errors array.
        kasko::Error e = expect_error(
            [&] { client.create_quote("{\"item_id\":\"ins_sandbox_travel\",\"subscription_plan_id\":\"pp_sandbox_single\","
                                      "\"integration_id\":\"in_sandbox_travel\",\"data\":{\"trip_cost\":0}}"); },
            "bad quote data");
        expect(e.status() == KASKO_ERR_BAD_REQUEST && e.http_status() == 400, e.json());
        std::optional<std::string> errors = e.result().member_json("errors");
        expect(errors && contains(*errors, "\"invalid_value\"") && contains(*errors, "\"trip_cost\"")
                   && contains(*errors, "\"required\"") && contains(*errors, "\"policy_start_date\""),
               "the errors array: " + e.json());
        e = expect_error([&] { client.create_offer(offer_request("qtok_0000000000000000000000000000000000000000")); },
                         "unknown quote token");
        expect(e.status() == KASKO_ERR_BAD_REQUEST && e.outcome() == kasko::Outcome::rejected, e.json());
        errors = e.result().member_json("errors");
        expect(errors && contains(*errors, "\"quote_token\""), "the errors array: " + e.json());
        // 404: an unknown id.
        e = expect_error([&] { client.get_offer("tpol_0000000000000000000000000000"); }, "unknown offer");
        expect(e.status() == KASKO_ERR_NOT_FOUND && e.http_status() == 404, e.json());
        e = expect_error([&] { client.get_policy("tpol_0000000000000000000000000000"); }, "unknown policy");
        expect(e.status() == KASKO_ERR_NOT_FOUND && e.http_status() == 404 && !e.result().etag(), e.json());
        // 401: views need the secret key.
        kasko::Client public_only(config(false));
        const Offer offer = checkout_offer(public_only);  // quotes and offers need only the public key
        e = expect_error([&] { public_only.get_offer(offer.policy_id); }, "offer view without secret key");
        expect(e.status() == KASKO_ERR_UNAUTHORIZED && e.http_status() == 401, e.json());
        e = expect_error([&] { public_only.get_policy(offer.policy_id); }, "policy view without secret key");
        expect(e.status() == KASKO_ERR_UNAUTHORIZED && e.http_status() == 401, e.json());
        // Refused before any I/O.
        expect_refused_before_io(expect_error([&] { client.create_quote("not json"); }, "quote not JSON"), "quote not JSON");
        expect_refused_before_io(expect_error([&] { client.create_offer("{\"quote_token\":\"qtok_1\"}"); }, "offer missing members"),
                                 "offer missing members");
        expect_refused_before_io(expect_error([&] { client.get_offer("tpol_1/../x"); }, "bad offer id"), "bad offer id");
        expect_refused_before_io(expect_error([&] { client.get_policy(""); }, "empty policy id"), "empty policy id");
        expect_refused_before_io(expect_error([&] { client.get_policy(std::string("tpol_1\0x", 8)); }, "NUL in id"),
                                 "NUL in id");
        expect_refused_before_io(expect_error([&] { client.resolve_payment({"", "invoice", "invoice", offer.policy_id}); },
                                              "empty token"),
                                 "resolve with an empty token");
        kasko::CallOptions bad;
        bad.traceparent = "not a traceparent";
        expect_refused_before_io(expect_error([&] { client.get_policy(offer.policy_id, bad); }, "bad options"), "bad options");
    });

    run("checkout: an invoice payment makes the policy paid, with a new ETag", [] {
        kasko::Client client(config());
        const Offer offer = checkout_offer(client);
        kasko::Result before = client.get_policy(offer.policy_id);
        expect(before.member_string("status") == std::string("pending") && before.etag(), before.json());
        client.create_payment(request(offer, "invoice"));
        kasko::Result after = policy_with_status(client, offer.policy_id, "paid");
        expect(after.etag() && *after.etag() != *before.etag(), "the ETag changed: " + after.etag().value_or("(none)"));
        expect(after.etag() == after.member_string("version_id") && after.last_modified(), after.json());
        expect(after.member_type("policy_created_date") == kasko::JsonType::string, after.json());
        expect(client.get_offer(offer.policy_id).member_string("status") == std::string("accepted"), "offer accepted");
    });

    run("checkout: resolve after a create dropped after its body: paid, exactly one payment", [] {
        kasko::Client client(config());
        const Offer offer = checkout_offer(client);
        arm_route_fault(offer.policy_id, "payment_create", "{\"drop\":\"after_body\"}", 1);
        kasko::Error lost = expect_error([&] { client.create_payment(request(offer, "invoice")); }, "dropped create");
        expect(lost.outcome() == kasko::Outcome::unknown, std::string("outcome ") + kasko::outcome_name(lost.outcome()));
        kasko::PaymentResolution resolved = client.resolve_payment(request(offer, "invoice"));
        expect(resolved.state() == kasko::PaymentState::paid, std::string("state ") + kasko::payment_state_name(resolved.state())
                                                                  + ": " + resolved.json());
        expect(!resolved.created_by_this_call(), "the lost create paid: " + resolved.json());
        expect(resolved.evidence() == "policy_paid" || resolved.evidence() == "already_paid", resolved.json());
        expect(resolved.policy_id() == offer.policy_id && !resolved.message().empty(), resolved.json());
        expect(!contains(resolved.json(), offer.token), "no token in the resolution");
        expect(payments_on(offer.policy_id) == 1, "one payment, got " + std::to_string(payments_on(offer.policy_id)));
        // Resolving again never pays again.
        expect(client.resolve_payment(request(offer, "invoice")).state() == kasko::PaymentState::paid, "paid again");
        expect(payments_on(offer.policy_id) == 1, "still one payment");
    });

    run("checkout: resolve with nothing paid creates the payment; a wrong token is not_paid", [] {
        kasko::Client client(config());
        const Offer offer = checkout_offer(client);
        kasko::PaymentResolution made = client.resolve_payment(request(offer, "invoice"));
        expect(made.state() == kasko::PaymentState::paid && made.created_by_this_call() && made.evidence() == "created",
               made.json());
        expect(made.payment_id() && !made.payment_id()->empty(), made.json());
        expect(id_of(client.get_payment(*made.payment_id())) == *made.payment_id(), "the payment exists");
        expect(payments_on(offer.policy_id) == 1, "one payment");

        const Offer other = checkout_offer(client);
        kasko::PaymentRequest wrong = request(other, "invoice");
        wrong.token = offer.token;  // another offer's token
        kasko::PaymentResolution refused = client.resolve_payment(wrong);
        expect(refused.state() == kasko::PaymentState::not_paid && !refused.created_by_this_call()
                   && refused.evidence() == "create_refused" && !refused.payment_id(),
               refused.json());
        expect(!contains(refused.json(), offer.token), "no token in the resolution");
        expect(payments_on(other.policy_id) == 0, "no payment on the other policy");
    });

    // The documented statuses the tests above leave out (docs/sandbox.md,
    // Tests/C/test_checkout.c): each with the binding's status and outcome.
    run("checkout: create_quote 401, 404 integration and plan, 409 building, refused before I/O", [] {
        kasko::Client client(config());
        auto quote_of = [](const std::string& integration, const std::string& plan) {
            return "{\"integration_id\":\"" + integration + "\",\"item_id\":\"ins_sandbox_travel\",\"subscription_plan_id\":\""
                   + plan + "\",\"data\":{\"trip_cost\":100000,\"policy_start_date\":\"2027-01-15\"}}";
        };
        kasko::Client stranger("{\"public_key\":\"pk_test_00000000000000000000000000000000\",\"base_url\":\""
                               + env("KASKO_SANDBOX_URL") + "\",\"max_retries\":0}");
        kasko::Error e = expect_error([&] { stranger.create_quote(travel_quote); }, "quote with another public key");
        expect(e.status() == KASKO_ERR_UNAUTHORIZED && e.http_status() == 401 && e.outcome() == kasko::Outcome::rejected,
               e.json());
        e = expect_error([&] { client.create_quote(quote_of("in_nope", "pp_sandbox_single")); }, "unknown integration");
        expect(e.status() == KASKO_ERR_NOT_FOUND && e.http_status() == 404 && e.outcome() == kasko::Outcome::rejected,
               e.json());
        expect(contains(e.what(), "in_nope") || contains(e.json(), "in_nope"), "the message names it: " + e.json());
        e = expect_error([&] { client.create_quote(quote_of("in_sandbox_travel", "pp_nope")); }, "unknown plan");
        expect(e.status() == KASKO_ERR_NOT_FOUND && e.http_status() == 404 && e.outcome() == kasko::Outcome::rejected,
               e.json());
        expect(contains(e.json(), "pp_nope"), "the message names it: " + e.json());
        e = expect_error([&] { client.create_quote(quote_of("in_sandbox_building", "pp_sandbox_single")); }, "409 building");
        expect(e.status() == KASKO_ERR_SERVER && e.http_status() == 409 && e.outcome() == kasko::Outcome::rejected,
               std::string(e.code()) + " " + kasko::outcome_name(e.outcome()) + " " + e.json());
        expect_refused_before_io(expect_error([&] { client.create_quote("[]"); }, "quote not an object"), "quote not an object");
        expect_refused_before_io(
            expect_error([&] { client.create_quote("{\"item_id\":\"ins_sandbox_travel\",\"subscription_plan_id\":\"pp_sandbox_single\","
                                                   "\"data\":{}}"); },
                         "quote without integration_id"),
            "quote without integration_id");
    });

    run("checkout: create_offer id and token, 400 bad e-mail, 401 another key, missing email refused", [] {
        kasko::Client client(config());
        const Offer offer = checkout_offer(client);
        expect(offer.policy_id.size() == 5 + 28, "tpol_ and 28 characters: " + offer.policy_id);
        const std::string quote = *client.create_quote(travel_quote).member_string("token");
        kasko::Error e = expect_error(
            [&] { client.create_offer("{\"quote_token\":\"" + quote
                                      + "\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"no-at-sign\",\"language\":\"de\"}"); },
            "offer with a bad e-mail");
        expect(e.status() == KASKO_ERR_BAD_REQUEST && e.http_status() == 400 && e.outcome() == kasko::Outcome::rejected,
               e.json());
        std::optional<std::string> errors = e.result().member_json("errors");
        expect(errors && contains(*errors, "\"email\"") && contains(*errors, "\"invalid_value\""), "the errors array: " + e.json());
        kasko::Client stranger("{\"public_key\":\"pk_test_00000000000000000000000000000000\",\"base_url\":\""
                               + env("KASKO_SANDBOX_URL") + "\",\"max_retries\":0}");
        e = expect_error([&] { stranger.create_offer(offer_request(quote)); }, "offer with another public key");
        expect(e.status() == KASKO_ERR_UNAUTHORIZED && e.http_status() == 401 && e.outcome() == kasko::Outcome::rejected,
               e.json());
        expect_refused_before_io(
            expect_error([&] { client.create_offer("{\"quote_token\":\"" + quote
                                                   + "\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"language\":\"de\"}"); },
                         "offer without email"),
            "offer without email");
    });

    run("checkout: a manually underwritten offer has no token until approved, then is ready with one", [] {
        kasko::Client client(config());
        const std::string quote = *client.create_quote(travel_quote).member_string("token");
        std::string request_json = offer_request(quote);
        request_json.insert(request_json.size() - 1, ",\"data\":{\"manual_underwriting\":true}");
        kasko::Result offer = client.create_offer(request_json);
        const std::string id = offer.member_string("id").value_or("");
        expect(offer.http_status() == 201 && id.rfind("tpol_", 0) == 0, "a manual offer: " + offer.json());
        expect(offer.member_type("payment_token") == kasko::JsonType::none, "no payment token yet");
        kasko::Result pending = client.get_offer(id);
        expect(pending.member_string("id") == id && pending.member_string("status") == std::string("pending"),
               "pending: " + pending.member_string("status").value_or("?"));
        std::string body;
        long status = post("/__sandbox/offers/" + id + "/approve", "{}", body);  // the body holds the token: not printed
        expect(status == 200, "approve: HTTP " + std::to_string(status));
        kasko::Result ready = client.get_offer(id);
        expect(ready.member_string("status") == std::string("ready"), "ready: " + ready.member_string("status").value_or("?"));
        expect(ready.member_string("payment_token").value_or("").rfind("ptok_", 0) == 0, "the approved offer has a token");
    });

    run("checkout: get_offer and get_policy refuse a bad id (tpol_a/b) before I/O", [] {
        kasko::Client client(config());
        expect_refused_before_io(expect_error([&] { client.get_offer("tpol_a/b"); }, "offer tpol_a/b"), "offer tpol_a/b");
        expect_refused_before_io(expect_error([&] { client.get_policy("tpol_a/b"); }, "policy tpol_a/b"), "policy tpol_a/b");
    });

    run("checkout: resolve after a deferred create dropped after its body: pending, its payment id, one payment", [] {
        kasko::Client client(config());
        const Offer offer = checkout_offer(client);
        arm_route_fault(offer.policy_id, "payment_create", "{\"drop\":\"after_body\"}", 1);
        kasko::Error lost = expect_error([&] { client.create_payment(request(offer, "deferred")); }, "dropped create");
        expect(lost.status() == KASKO_ERR_NETWORK && lost.outcome() == kasko::Outcome::unknown,
               std::string(lost.code()) + " " + kasko::outcome_name(lost.outcome()));
        kasko::PaymentResolution resolved = client.resolve_payment(request(offer, "deferred"));
        expect(resolved.state() == kasko::PaymentState::pending,
               std::string("state ") + kasko::payment_state_name(resolved.state()) + ": " + resolved.json());
        expect(!resolved.created_by_this_call() && resolved.payment_id() && !resolved.payment_id()->empty(), resolved.json());
        expect(resolved.policy_id() == offer.policy_id && !contains(resolved.json(), offer.token), "the resolution");
        std::string counter;
        expect(get("/__sandbox/policies/" + offer.policy_id + "/payments", counter) == 200, "the payment counter");
        expect(contains(counter, "\"payments\":[\"" + *resolved.payment_id() + "\"]"), "exactly that payment: " + counter);
        expect(payments_on(offer.policy_id) == 1, "one payment");
    });
}

// ---- the event hook (libkasko 1.2) ---------------------------------------

// What a recording hook keeps of one event: copies, since the Event is
// valid only while the hook runs.
struct Seen {
    kasko::EventKind kind;
    std::string operation, method, route, path, code, json, message;
    int attempt;
    std::optional<int> http_status;
    kasko::Outcome outcome;
    bool retry;
    std::optional<std::chrono::milliseconds> retry_delay;
    std::optional<std::string> request_id;
    std::int64_t bytes_sent, bytes_received;
    std::optional<std::chrono::microseconds> dns, first_byte;
    std::chrono::microseconds total;
};

struct Recorder {
    std::mutex mutex;
    std::vector<Seen> events;

    kasko::EventHook hook() {
        return [this](const kasko::Event& e) {
            Seen seen{e.kind(),        e.operation(), e.method(),      e.route(),       e.path(),
                      e.code(),        e.json(),      e.message(),     e.attempt(),     e.http_status(),
                      e.outcome(),     e.retry(),     e.retry_delay(), e.request_id(),  e.bytes_sent(),
                      e.bytes_received(), e.dns(),    e.first_byte(),  e.total()};
            std::lock_guard<std::mutex> lock(mutex);
            events.push_back(std::move(seen));
        };
    }

    std::vector<Seen> take() {
        std::lock_guard<std::mutex> lock(mutex);
        return std::exchange(events, {});
    }
};

// No event names a key: neither in full nor their random part.
void expect_no_keys(const std::vector<Seen>& events) {
    const std::string public_key = env("KASKO_SANDBOX_PUBLIC_KEY", "pk_test_sandbox");
    const std::string secret_key = env("KASKO_SANDBOX_SECRET_KEY", "sk_test_sandbox");
    for (const Seen& e : events) {
        expect(!contains(e.json, public_key) && !contains(e.json, secret_key), "a key in an event: " + e.json);
        for (const std::string& key : {public_key, secret_key}) {  // a real key's random part: 32 characters
            if (key.size() >= 40) expect(!contains(e.json, key.substr(8)), "a key's random part in an event: " + e.json);
        }
        expect(!contains(e.path, "?") && !contains(e.path, "key="), "a query in the path: " + e.json);
    }
}

// Marks a flag when destroyed.
struct Probe {
    explicit Probe(std::atomic<bool>* flag) noexcept : flag(flag) {}
    Probe(const Probe&) = delete;
    Probe& operator=(const Probe&) = delete;
    ~Probe() { flag->store(true); }
    std::atomic<bool>* flag;
};

kasko::Config retrying_config() { return typed_config().max_retries(2); }

// kasko::verify_webhook (kasko.h 1.3): the wider-API reference's test
// vector (section 6.3, all three lines), tampering, NULs, hex case, bad headers.
void run_webhook_tests() {
    static const std::string secret = "whsec_test_secret";
    static const std::string body =
        "{\"id\":\"tpol_0000000000000000000000000000\",\"livemode\":false,\"policy_id\":\"TEST-POLICY-12345\"}";
    static const std::string signature = "sha1=bed331ec2031e668907869f5ed39cf12136167a9";
    auto status_of = [](const std::string& key, std::string_view payload, const std::string& header) {
        try {
            kasko::verify_webhook(key, payload, header);
            return KASKO_OK;
        } catch (const kasko::Error& e) {
            return e.status();
        }
    };

    run("webhook: the reference's test vector, all three lines", [&] {
        expect(body.size() == 91, "the body is 91 bytes");
        kasko::verify_webhook(secret, body, signature);
        kasko::verify_webhook(secret, body + "\n", "sha1=f42fe9d573c1ddf6f388aeb10c6e9330a07e1320");
        kasko::verify_webhook("test_secret", body, "sha1=b99e8a97c5f8540099eae9ce852cd1c0fc335295");
    });

    run("webhook: a changed body, secret or length is BAD_SIGNATURE", [&] {
        kasko::Error e = expect_error([&] { kasko::verify_webhook(secret, body + "\n", signature); }, "tampered");
        expect(e.status() == KASKO_ERR_BAD_SIGNATURE && std::string(e.code()) == "KASKO_ERR_BAD_SIGNATURE", e.json());
        expect(contains(e.what(), "X-KASKO-Signature"), e.what());
        expect(!contains(e.json(), secret), "the error never quotes the secret");
        expect(status_of("test_secret", body, signature) == KASKO_ERR_BAD_SIGNATURE, "another secret");
        expect(status_of(secret, std::string_view(body).substr(0, 90), signature) == KASKO_ERR_BAD_SIGNATURE,
               "payload shortened by one byte");
        expect(status_of(secret, body, "sha1=bed331ec2031e668907869f5ed39cf12136167a8") == KASKO_ERR_BAD_SIGNATURE,
               "last digit changed");
    });

    run("webhook: NUL bytes in the body count; upper-case hex is accepted", [&] {
        const std::string with_nul("{\"a\":\"x\0y\"}\0tail", 16);
        kasko::verify_webhook(secret, with_nul, "sha1=64b69479808ca69a18e0c186d6059958e972b6c1");
        expect(status_of(secret, std::string_view(with_nul.c_str()), "sha1=64b69479808ca69a18e0c186d6059958e972b6c1")
                   == KASKO_ERR_BAD_SIGNATURE,
               "the body up to its first NUL is another body");
        kasko::verify_webhook(secret, body, "sha1=BED331EC2031E668907869F5ED39CF12136167A9");
        kasko::verify_webhook(secret, std::string_view(), "sha1=2f0bd1d2d712bf4a22d695e03115fa82101d175e");
    });

    run("webhook: malformed headers, an empty secret and NULs are INVALID_ARGUMENT", [&] {
        const std::string headers[] = {
            "", signature.substr(5), "SHA1=" + signature.substr(5), "sha256=" + signature.substr(5),
            signature.substr(0, 44), signature + "0", signature.substr(0, 44) + "g", " " + signature, signature + " ",
        };
        for (const std::string& header : headers) {
            expect(status_of(secret, body, header) == KASKO_ERR_INVALID_ARGUMENT, "header \"" + header + "\"");
        }
        expect(status_of("", body, signature) == KASKO_ERR_INVALID_ARGUMENT, "empty secret");
        kasko::Error e = expect_error([&] { kasko::verify_webhook(secret, body, signature + std::string("\0x", 2)); },
                                      "NUL in the header");
        expect(e.status() == KASKO_ERR_INVALID_ARGUMENT && contains(e.what(), "NUL"), e.json());
        expect(status_of(secret + std::string("\0x", 2), body, signature) == KASKO_ERR_INVALID_ARGUMENT,
               "NUL in the secret");
    });

    run("webhook: 8 threads at once", [&] {
        std::atomic<int> right{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < 100; ++i) {
                    if (status_of(secret, body, signature) == KASKO_OK) ++right;
                    if (status_of(secret, body + "x", signature) == KASKO_ERR_BAD_SIGNATURE) ++right;
                }
            });
        }
        for (auto& thread : threads) thread.join();
        expect(right == 1600, "1600 right answers, got " + std::to_string(right.load()));
    });
}

void run_event_hook_tests() {
    run("event hook: a retried view is one attempt event per attempt, then one call_end", [] {
        const kasko::Client client(retrying_config());
        const std::string id = id_of(client.create_payment(request(new_offer(), "invoice")));
        Recorder recorder;
        client.set_event_hook(recorder.hook());
        arm_fault(id, "{\"status\":503}", 1);
        kasko::Result viewed = client.get_payment(id);
        client.clear_event_hook();
        expect(viewed.attempts() == 2, "2 attempts, got " + std::to_string(viewed.attempts()));
        std::vector<Seen> events = recorder.take();
        expect(events.size() == static_cast<std::size_t>(viewed.attempts()) + 1,
               std::to_string(events.size()) + " events");
        for (int i = 0; i < viewed.attempts(); ++i) {
            const Seen& e = events[static_cast<std::size_t>(i)];
            expect(e.kind == kasko::EventKind::attempt && e.attempt == i + 1, e.json);
            expect(e.operation == "payment_get" && e.method == "GET" && e.route == "/payments/{id}", e.json);
            expect(contains(e.path, "/payments/" + id), e.json);
            expect(e.dns.has_value() && e.first_byte.has_value() && e.total.count() > 0, e.json);
            expect(e.bytes_sent > 0 && e.bytes_received > 0 && e.request_id.has_value(), e.json);
        }
        const Seen& failed_attempt = events[0];
        expect(failed_attempt.http_status == 503 && failed_attempt.code == "KASKO_ERR_SERVER" && failed_attempt.retry
                   && failed_attempt.retry_delay.has_value() && !failed_attempt.message.empty(),
               failed_attempt.json);
        const Seen& second = events[1];
        expect(second.http_status == 200 && second.code == "KASKO_OK" && !second.retry && !second.retry_delay
                   && second.outcome == kasko::Outcome::succeeded && second.message.empty(),
               second.json);
        const Seen& end = events[2];
        expect(end.kind == kasko::EventKind::call_end && end.attempt == 2 && end.code == "KASKO_OK"
                   && end.http_status == 200 && !end.dns && end.request_id == viewed.request_id(),
               end.json);
        expect(viewed.total_time().count() > 0, "total time " + std::to_string(viewed.total_time().count()));
        expect(end.total == viewed.total_time(), "call_end's total_us is total_time(): " + end.json);
        expect(viewed.total_time() >= events[0].total + events[1].total, "the wall time holds both attempts");
        expect_no_keys(events);
    });

    run("event hook: a create's events name no key; total_time() on success and error", [] {
        const kasko::Client client(typed_config());
        Recorder recorder;
        client.set_event_hook(recorder.hook());
        kasko::Result created = client.create_payment(request(new_offer(), "invoice"));
        kasko::Error e = expect_error([&] { client.get_payment(unknown_id); }, "unknown payment");
        client.set_event_hook(nullptr);
        std::vector<Seen> events = recorder.take();
        expect(events.size() == 4, std::to_string(events.size()) + " events");
        expect(events[0].operation == "payment_create" && events[0].method == "POST" && events[0].route == "/payments"
                   && events[0].path == "/payments" && events[0].http_status.has_value(),
               events[0].json);
        expect(events[3].kind == kasko::EventKind::call_end && events[3].code == "KASKO_ERR_NOT_FOUND"
                   && events[3].outcome == kasko::Outcome::rejected && events[3].message == e.message(),
               events[3].json);
        expect_no_keys(events);
        expect(created.total_time().count() > 0, "success total time");
        expect(e.total_time().count() > 0 && e.total_time() == e.result().total_time(), "error total time");
        expect(events[3].total == e.total_time(), events[3].json);
        kasko::Error refused = expect_error([&] { client.get_payment("not a payment id"); }, "bad id");
        expect(refused.total_time().count() == 0, "a call refused before I/O takes no time");
        expect(kasko::Result::error(KASKO_ERR_INTERNAL, "x").total_time().count() == 0, "a made result");
    });

    run("event hook: a hook that throws does not change the call; the exceptions are counted", [] {
        const kasko::Client client(typed_config());
        const std::string id = id_of(client.create_payment(request(new_offer(), "invoice")));
        std::atomic<int> called{0};
        client.set_event_hook([&](const kasko::Event& e) {
            ++called;
            if (e.kind() == kasko::EventKind::attempt) throw std::runtime_error("a hook's own failure");
            throw 42;  // not even a std::exception
        });
        expect(client.event_hook_exceptions() == 0, "none yet");
        kasko::Result viewed = client.get_payment(id);
        expect(id_of(viewed) == id && viewed.attempts() == 1, viewed.json());
        kasko::Error e = expect_error([&] { client.get_payment(unknown_id); }, "unknown payment");
        expect(e.status() == KASKO_ERR_NOT_FOUND, e.json());
        client.clear_event_hook();
        expect(called == 4, "4 events, got " + std::to_string(called.load()));
        expect(client.event_hook_exceptions() == 4,
               "4 exceptions counted, got " + std::to_string(client.event_hook_exceptions()));
    });

    run("event hook: calls made inside a hook deliver no events; setting a hook there throws", [] {
        const kasko::Client client(typed_config());
        const kasko::Client other(typed_config());
        const std::string id = id_of(client.create_payment(request(new_offer(), "invoice")));
        Recorder recorder, other_recorder;
        other.set_event_hook(other_recorder.hook());
        std::atomic<int> called{0}, nested_ok{0}, refused{0};
        client.set_event_hook([&](const kasko::Event& e) {
            ++called;
            if (e.kind() != kasko::EventKind::attempt) return;
            if (id_of(client.get_payment(id)) == id) ++nested_ok;  // the same client
            if (id_of(other.get_payment(id)) == id) ++nested_ok;   // and another one
            try {
                client.set_event_hook(nullptr);
            } catch (const kasko::Error& error) {
                if (error.status() == KASKO_ERR_INVALID_ARGUMENT) ++refused;
            }
            try {
                other.clear_event_hook();
            } catch (const kasko::Error& error) {
                if (error.status() == KASKO_ERR_INVALID_ARGUMENT) ++refused;
            }
        });
        client.get_payment(id);
        client.clear_event_hook();
        other.clear_event_hook();
        expect(called == 2, "one attempt and one call_end, not the nested calls': " + std::to_string(called.load()));
        expect(nested_ok == 2, "the nested calls succeeded");
        expect(refused == 2, "set_event_hook refused inside a hook");
        expect(other_recorder.take().empty(), "the other client's call inside the hook delivered nothing");
    });

    run("event hook: replaced and cleared while 8 threads make calls", [] {
        const kasko::Client client(typed_config());
        const std::string id = id_of(client.create_payment(request(new_offer(), "invoice")));
        constexpr int hooks = 150;
        std::vector<std::atomic<long>> calls(hooks);
        std::atomic<bool> stop{false};
        std::atomic<long> done{0};
        std::atomic<int> failures{0};
        std::vector<std::string> problems(8);  // read once the workers are joined
        std::vector<std::thread> threads;
        struct Joiner {  // a failed expectation stops and joins the workers
            std::atomic<bool>& stop;
            std::vector<std::thread>& threads;
            ~Joiner() {
                stop = true;
                for (auto& thread : threads) {
                    if (thread.joinable()) thread.join();
                }
            }
        } joiner{stop, threads};
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                try {
                    while (!stop) {
                        if (id_of(client.get_payment(id)) != id) throw Failure("wrong payment");
                        ++done;
                    }
                } catch (const std::exception& e) {
                    problems[t] = e.what();
                    ++failures;
                }
            });
        }
        auto calls_made = [&](long at_least) {  // waits for the workers to make more calls
            while (done < at_least) {
                if (failures > 0) {
                    stop = true;
                    for (auto& thread : threads) thread.join();
                    for (const auto& problem : problems) expect(problem.empty(), problem);
                }
                std::this_thread::yield();
            }
        };
        calls_made(8);
        std::vector<long> after_replaced(hooks, -1);
        std::vector<std::weak_ptr<Probe>> captures(hooks);
        std::vector<std::atomic<bool>> destroyed(hooks);
        std::atomic<int> called_destroyed{0};
        for (int h = 0; h < hooks; ++h) {
            // Destroyed with the hook: it marks `destroyed`, which the hook
            // checks while it runs (a hook destroyed too early is caught here).
            auto capture = std::make_shared<Probe>(&destroyed[static_cast<std::size_t>(h)]);
            captures[static_cast<std::size_t>(h)] = capture;
            client.set_event_hook([&, h, capture](const kasko::Event& e) {
                const auto index = static_cast<std::size_t>(h);
                if (index >= destroyed.size()) return;  // (a freed hook's memory)
                for (int i = 0; i < 20; ++i) {  // a hook that takes a while, to overlap a replacement
                    if (destroyed[index]) ++called_destroyed;
                    if (e.json().empty()) ++called_destroyed;
                }
                ++calls[index];
            });
            capture.reset();  // the hook holds the only one
            if (h > 0) {
                // The previous hook is not running and never runs again: its
                // count is final, and it has been destroyed.
                after_replaced[static_cast<std::size_t>(h - 1)] = calls[static_cast<std::size_t>(h - 1)];
                expect(captures[static_cast<std::size_t>(h - 1)].expired(), "the replaced hook was destroyed");
            }
            calls_made(done + 4);
            if (h % 10 == 9) {
                client.clear_event_hook();
                after_replaced[static_cast<std::size_t>(h)] = calls[static_cast<std::size_t>(h)];
                expect(captures[static_cast<std::size_t>(h)].expired(), "the cleared hook was destroyed");
                calls_made(done + 4);
            }
        }
        client.clear_event_hook();
        calls_made(done + 8);
        stop = true;
        for (auto& thread : threads) thread.join();
        for (const auto& problem : problems) expect(problem.empty(), problem);
        long total = 0;
        for (int h = 0; h < hooks; ++h) {
            long final_count = calls[static_cast<std::size_t>(h)];
            total += final_count;
            if (after_replaced[static_cast<std::size_t>(h)] >= 0) {
                expect(final_count == after_replaced[static_cast<std::size_t>(h)],
                       "hook " + std::to_string(h) + " called after it was replaced");
            }
        }
        expect(total > 0, "the hooks saw events");
        expect(called_destroyed == 0, "a hook ran after it was destroyed");
        expect(client.event_hook_exceptions() == 0, "no exceptions");
    });

    run("event hook: owned by the client; a moved-from client refuses it", [] {
        auto capture = std::make_shared<int>(1);
        std::weak_ptr<int> watched = capture;
        {
            kasko::Client client(typed_config());
            client.set_event_hook([capture](const kasko::Event&) {});
            capture.reset();
            expect(!watched.expired(), "the client keeps its hook");
            kasko::Client moved(std::move(client));
            moved.get_payment(id_of(moved.create_payment(request(new_offer(), "invoice"))));
            kasko::Error e = expect_error([&] { client.set_event_hook(nullptr); }, "moved-from");
            expect(e.status() == KASKO_ERR_INVALID_ARGUMENT && client.event_hook_exceptions() == 0, e.json());
            expect(!watched.expired(), "moved with the client");
        }
        expect(watched.expired(), "destroyed with the client");
    });
}

}  // namespace

int main() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::cout << "libkasko " << kasko::version() << " through kasko.hpp\n";

    run("version and status names", [] {
        expect(kasko::version().rfind("1.", 0) == 0, "major version 1, got " + kasko::version());
        expect(kasko::status_name(KASKO_ERR_NOT_FOUND) == "KASKO_ERR_NOT_FOUND", "status_name");
#if KASKO_VERSION_NUMBER >= 1004000
        expect(kasko::status_name(KASKO_ERR_CANCELLED) == "KASKO_ERR_CANCELLED" && KASKO_ERR_CANCELLED == 12,
               "status_name of KASKO_ERR_CANCELLED");
        expect(kasko::Error(kasko::Result::error(KASKO_ERR_CANCELLED, "cancelled")).status() == KASKO_ERR_CANCELLED,
               "an Error of KASKO_ERR_CANCELLED keeps its status");
#endif
        expect(kasko::version_number() >= KASKO_VERSION_NUMBER && kasko::version_number() / 1000000 == 1,
               "version_number " + std::to_string(kasko::version_number()));
        expect(std::string(kasko::outcome_name(kasko::Outcome::not_sent)) == "KASKO_OUTCOME_NOT_SENT"
                   && std::string(kasko::outcome_name(kasko::Outcome::unknown)) == "KASKO_OUTCOME_UNKNOWN",
               "outcome_name");
        expect(std::string(kasko::outcome_name(static_cast<kasko::Outcome>(42))) == "KASKO_OUTCOME_INVALID",
               "outcome_name of a non-outcome");
    });

    // Was "Error reads the error object's members, not look-alikes in
    // strings" (a test of the JSON reader this binding no longer has): now
    // the library makes the error object and reads its members back.
    run("Result::error is the library's error object; its members are read, not look-alikes", [] {
        const std::string message = "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ \n \"http_status\":500, \"pending_payment_id\":\"t1\"";
        kasko::Error e(kasko::Result::error(KASKO_ERR_PENDING_PAYMENT, message));
        expect(e.status() == KASKO_ERR_PENDING_PAYMENT, std::string("status ") + e.code());
        expect(std::string(e.what()) == message && e.message() == message, std::string("what(): ") + e.what());
        expect(!e.http_status() && !e.pending_payment_id() && !e.request_id(), "no look-alikes: " + e.json());
        expect(e.outcome() == kasko::Outcome::not_sent && e.attempts() == 0 && !e.retryable(), e.json());
        expect(contains(e.json(), "\"object\":\"error\""), e.json());
        expect(e.result().member_string("message") == message, "member_string(\"message\"): " + e.json());
        expect(e.result().member_string("code") == std::string("KASKO_ERR_PENDING_PAYMENT"), e.json());
        expect(e.result().member_type("http_status") == kasko::JsonType::null, e.json());
        kasko::Result not_an_error = kasko::Result::error(KASKO_OK, "m");
        expect(not_an_error.status() == KASKO_ERR_INVALID_ARGUMENT && !not_an_error.message().empty(),
               "KASKO_OK is no error status: " + not_an_error.json());
        kasko::Error from_success(kasko::Result::error(KASKO_OK, "m"));
        expect(from_success.status() != KASKO_OK, "an Error is never KASKO_OK");
    });

    run("a bad configuration throws INVALID_ARGUMENT with the library's message", [] {
        const std::string config = "{\"public_key\":\"pk_test_x\",\"typo\":1}";
        kasko::Error e = expect_error([&] { kasko::Client client(config); }, "unknown config key");
        expect_refused_before_io(e, "unknown config key");
        expect(!e.http_status().has_value() && !e.request_id(), "no HTTP status before I/O");
        // what() is the library's reason, word for word, naming the key ...
        expect(contains(e.what(), "unknown configuration key \"typo\""), std::string("what(): ") + e.what());
        expect(e.message() == e.what() && e.result().message() == e.what(), e.message());
        // ... and the same as kasko_client_new_v2 says when asked directly.
        kasko_client* handle = nullptr;
        kasko_result* raw = nullptr;
        kasko_status status = kasko_client_new_v2(config.c_str(), &handle, &raw);
        kasko::Result direct(raw);
        expect(status == KASKO_ERR_INVALID_ARGUMENT && handle == nullptr && direct.native_handle() != nullptr,
               "kasko_client_new_v2 refuses it too");
        expect(direct.message() == e.message() && direct.json() == e.json(), direct.json() + " vs " + e.json());
        // json() is the library's error object, read by the library.
        expect(e.result().member_string("object") == std::string("error")
                   && e.result().member_string("message") == e.message()
                   && e.result().member_string("outcome") == std::string("not_sent")
                   && e.result().member_int64("attempts") == 0
                   && e.result().member_type("http_status") == kasko::JsonType::null,
               "the error object: " + e.json());
    });

    run("a bad key is refused with the library's message, never quoting it", [] {
        const std::string secret = "sk_test_\\u0001verysecretvalue";  // a control character, JSON-escaped
        kasko::Error e = expect_error(
            [&] { kasko::Client client("{\"public_key\":\"pk_test_abc\",\"secret_key\":\"" + secret + "\"}"); },
            "bad secret key");
        expect_refused_before_io(e, "bad secret key");
        expect(contains(e.what(), "secret_key"), std::string("names the key: ") + e.what());
        expect(!contains(e.what(), "verysecretvalue") && !contains(e.json(), "verysecretvalue"), e.json());
        e = expect_error([] { kasko::Client client("{\"public_key\":\"pk_test_has space\"}"); }, "bad public key");
        expect_refused_before_io(e, "bad public key");
        expect(contains(e.what(), "public_key") && !contains(e.what(), "has space"), e.what());
        e = expect_error([] { kasko::Client client("not json"); }, "not JSON");
        expect_refused_before_io(e, "not JSON");
        expect(contains(e.what(), "configuration is not valid JSON"), e.what());
        // A good configuration makes a client, and nothing is left to free.
        kasko::Client client(config());
        expect(client.native_handle() != nullptr, "a client");
    });

    run("create a payment, then view it", [] {
        kasko::Client client(config());
        kasko::Result created = client.create_payment(request(new_offer(), "invoice"));
        std::string id = id_of(created);
        expect(contains(created.json(), "\"object\":\"payment\""), "payment object: " + created.json());
        kasko::Result viewed = client.get_payment(id);
        expect(id_of(viewed) == id, "the same payment: " + viewed.json());
        expect(viewed.member_string("status") == std::string("ok"), "invoice payments are ok at once: " + viewed.json());
    });

    run("a client from a kasko::Config creates and views a payment", [] {
        // Chained on a temporary, every key set: the library escapes the values.
        kasko::Client client(kasko::Config()
                                 .public_key(env("KASKO_SANDBOX_PUBLIC_KEY", "pk_test_sandbox"))
                                 .secret_key(sandbox_secret())
                                 .base_url(env("KASKO_SANDBOX_URL"))
                                 .timeout(std::chrono::seconds(30))
                                 .connect_timeout(std::chrono::milliseconds(5000))
                                 .max_retries(1)
                                 .proxy("")
                                 .user_agent("cpp-test/1 (\"quoted\" \\ text)"));
        kasko::Result created = client.create_payment(request(new_offer(), "invoice"));
        std::string id = id_of(created);
        expect(created.member_string("object") == std::string("payment"), created.json());
        kasko::Result viewed = client.get_payment(id);
        expect(id_of(viewed) == id && viewed.member_string("status") == std::string("ok"), viewed.json());
        expect(viewed.member_type("policy_id") == kasko::JsonType::string, "the full object: " + viewed.json());

        // One Config makes several clients, and may go before them.
        std::optional<kasko::Client> second;
        {
            kasko::Config config = typed_config();
            kasko::Client first(config);
            second.emplace(config);
            expect(id_of(first.get_payment(id)) == id, "the first client");
        }
        expect(id_of(second->get_payment(id)) == id, "a client outlives its Config");
        // A moved Config still works; a moved-from one is refused by the library.
        kasko::Config from = typed_config();
        kasko::Config to = std::move(from);
        expect(from.native_handle() == nullptr && to.native_handle() != nullptr, "moved");
        expect(id_of(kasko::Client(to).get_payment(id)) == id, "the moved-to Config");
        kasko::Error e = expect_error([&] { kasko::Client moved_from(from); }, "a moved-from Config");
        expect_refused_before_io(e, "a moved-from Config");
        // Without the secret key: the restricted object, and views refused.
        kasko::Client public_only(typed_config(false));
        kasko::Result restricted = public_only.create_payment(request(new_offer(), "invoice"));
        expect(restricted.member_type("policy_id") == kasko::JsonType::none, "restricted: " + restricted.json());
        e = expect_error([&] { public_only.get_payment(id_of(restricted)); }, "view without a secret key");
        expect(e.status() == KASKO_ERR_UNAUTHORIZED, e.json());
    });

    run("a bad kasko::Config value is INVALID_ARGUMENT with the library's message, never the secret", [] {
        const std::string secret = sandbox_secret();
        auto refused = [&](const kasko::Config& config, const std::string& what) {
            kasko::Error e = expect_error([&] { kasko::Client client(config); }, what);
            expect_refused_before_io(e, what);
            expect(e.message() == e.what() && e.result().member_string("message") == e.message(), e.json());
            expect(!contains(e.message(), secret) && !contains(e.json(), secret), what + " quotes the secret: " + e.json());
            return e;
        };
        kasko::Error e = refused(typed_config().max_retries(11), "max_retries 11");
        expect(contains(e.message(), "max_retries") && contains(e.message(), "0 to 10"), e.message());
        // The very message of the JSON configuration with the same value.
        kasko::Error json = expect_error(
            [] { kasko::Client client("{\"public_key\":\"pk_test_abc\",\"max_retries\":11}"); }, "JSON");
        expect(json.message() == e.message(), json.message() + " vs " + e.message());

        e = refused(typed_config().public_key("pk_test_has space"), "a malformed public key");
        expect(contains(e.message(), "public_key") && !contains(e.message(), "has space"), e.message());
        e = refused(typed_config().public_key("sk_test_sandbox"), "a secret key as the public key");
        expect(contains(e.message(), "public_key") && !contains(e.message(), "sk_test_sandbox"), e.message());
        const std::string bad_secret = "sk_test_Secret\"With\\Quote";
        e = refused(typed_config().secret_key(bad_secret), "a malformed secret key");
        expect(contains(e.message(), "secret_key") && !contains(e.message(), "Secret") && !contains(e.json(), "Secret"),
               e.json());
        e = refused(typed_config().public_key("pk_live_abc"), "test and live keys mixed");
        expect(contains(e.message(), "live") && contains(e.message(), "test"), e.message());
        e = refused(typed_config().base_url("http://example.com"), "plain http to another host");
        expect(contains(e.message(), "base_url"), e.message());
        e = refused(typed_config().ca_bundle("/nonexistent/ca.pem"), "a missing CA bundle");
        expect(contains(e.message(), "ca_bundle"), e.message());
        e = refused(typed_config().proxy("ftp://proxy"), "a proxy of another scheme");
        expect(contains(e.message(), "proxy"), e.message());
        e = refused(typed_config().user_agent("a\nb"), "a control character in the user agent");
        expect(contains(e.message(), "user_agent"), e.message());
        kasko::Config empty;
        e = refused(empty, "no public key");
        expect(contains(e.message(), "public_key"), e.message());

        // A NUL byte, which C cannot carry: refused with an error the library
        // makes, until the key is set again.
        kasko::Config config = typed_config();
        config.secret_key(secret + std::string(1, '\0') + "tail");
        e = refused(config, "a NUL byte in the secret key");
        expect(e.message() == "configuration key \"secret_key\" contains a NUL character", e.message());
        expect(!contains(e.json(), "tail"), e.json());
        config.secret_key(secret);
        kasko::Client client(config);
        expect(client.native_handle() != nullptr, "set again, accepted");
        // A refused value is forgotten once set right (the library's rule).
        config.max_retries(11);
        refused(config, "max_retries 11 again");
        config.max_retries(10);
        kasko::Client again(config);
        expect(again.native_handle() != nullptr, "max_retries 10");
    });

    run("kasko::Config timeouts are durations, sent as whole milliseconds rounded up", [] {
        using namespace std::chrono;
        // The conversion itself.
        expect(kasko::detail::milliseconds(seconds(30)) == 30000, "30 s");
        expect(kasko::detail::milliseconds(hours(1)) == 3600000, "1 h");
        expect(kasko::detail::milliseconds(nanoseconds(1)) == 1, "1 ns rounds up");
        expect(kasko::detail::milliseconds(microseconds(1500)) == 2, "1.5 ms rounds up");
        expect(kasko::detail::milliseconds(duration<double>(0.25)) == 250, "0.25 s (double)");
        expect(kasko::detail::milliseconds(duration<double, std::milli>(0.5)) == 1, "0.5 ms (double)");
        expect(kasko::detail::milliseconds(milliseconds(0)) == 0, "0");
        expect(kasko::detail::milliseconds(microseconds(-1500)) == -1, "-1.5 ms");
        expect(kasko::detail::milliseconds(hours::max()) == LONG_MAX, "beyond long: clamped");
        expect(kasko::detail::milliseconds(hours::min()) == LONG_MIN, "beyond long: clamped");
        expect(kasko::detail::milliseconds(duration<double>(1e300)) == LONG_MAX, "a huge double");
        // What the library is given, as its messages quote it.
        auto refusal = [](kasko::Config&& config) {
            return expect_error([&] { kasko::Client client(config); }, "refused").message();
        };
        std::string message = refusal(typed_config().timeout(hours(1) + milliseconds(1)));
        expect(contains(message, "timeout_ms") && contains(message, "got 3600001"), message);
        message = refusal(typed_config().timeout(nanoseconds(3600000000001LL)));
        expect(contains(message, "got 3600001"), "3 600 000.000001 ms rounds up: " + message);
        message = refusal(typed_config().timeout(duration<double>(3600.0005)));
        expect(contains(message, "got 3600001"), "a double: " + message);
        message = refusal(typed_config().timeout(milliseconds(0)));
        expect(contains(message, "timeout_ms") && contains(message, "got 0"), message);
        message = refusal(typed_config().timeout(seconds(-2)));
        expect(contains(message, "timeout_ms") && contains(message, "got -2000"), message);
        message = refusal(typed_config().connect_timeout(minutes(61)));
        expect(contains(message, "connect_timeout_ms") && contains(message, "got 3660000"), message);
        message = refusal(typed_config().timeout(hours(1)).connect_timeout(microseconds(0)));
        expect(contains(message, "connect_timeout_ms") && contains(message, "got 0"), message);
        // The ends of the range are accepted.
        kasko::Client longest(typed_config().timeout(hours(1)).connect_timeout(minutes(60)));
        kasko::Client shortest(typed_config().timeout(nanoseconds(1)).connect_timeout(microseconds(1)));
        expect(longest.native_handle() != nullptr && shortest.native_handle() != nullptr, "accepted");
    });

    run("kasko::config_key names exactly the library's keys", [] {
        // The library lists its keys when it refuses an unknown one.
        std::unique_ptr<kasko_config, kasko::detail::ConfigFree> raw(kasko_config_new());
        expect(kasko_config_set_string(raw.get(), "no_such_key", "x") == KASKO_ERR_INVALID_ARGUMENT, "unknown key");
        kasko_client* handle = nullptr;
        kasko_result* out = nullptr;
        kasko_status status = kasko_client_new_from_config(raw.get(), &handle, &out);
        kasko::Result refusal(out);
        expect(status == KASKO_ERR_INVALID_ARGUMENT && handle == nullptr, refusal.json());
        const std::string marker = "known keys: ";
        std::string message = refusal.message();
        expect(contains(message, marker), message);
        std::vector<std::string> known;
        std::string rest = message.substr(message.find(marker) + marker.size());
        for (std::size_t at = 0; at <= rest.size();) {
            std::size_t end = rest.find(", ", at);
            if (end == std::string::npos) end = rest.size();
            known.push_back(rest.substr(at, end - at));
            at = end + 2;
        }
        const std::vector<std::string> ours = {
            kasko::config_key::public_key, kasko::config_key::secret_key,  kasko::config_key::base_url,
            kasko::config_key::timeout_ms, kasko::config_key::connect_timeout_ms, kasko::config_key::max_retries,
            kasko::config_key::ca_bundle,  kasko::config_key::proxy,       kasko::config_key::user_agent,
        };
        expect(known == ours, "the library's keys: " + message);
    });

    run("typed getters on a success", [] {
        kasko::Client client(config());
        Offer offer = new_offer();
        kasko::Result created = client.create_payment(request(offer, "invoice"));
        expect(created.ok() && created.status() == KASKO_OK, std::string("status ") + created.code());
        expect(created.http_status() == 200 || created.http_status() == 201,
               "http_status " + std::to_string(created.http_status().value_or(0)));
        expect(created.outcome() == kasko::Outcome::succeeded, kasko::outcome_name(created.outcome()));
        expect(created.attempts() == 1 && !created.retryable(), "attempts " + std::to_string(created.attempts()));
        expect(created.message().empty() && !created.pending_payment_id(), "no message on success");
        expect(created.request_id() && created.request_id()->rfind("req_", 0) == 0,
               "the sandbox's X-Request-Id: " + created.request_id().value_or("(none)"));
        expect(created.member_string("object") == std::string("payment"), created.json());
        expect(created.member_string("policy_id") == offer.policy_id, created.json());

        kasko::Result viewed = client.get_payment(id_of(created));
        expect(viewed.http_status() == 200, "view: http_status " + std::to_string(viewed.http_status().value_or(0)));
        expect(viewed.member_type("id") == kasko::JsonType::string, "id is a string");
        expect(viewed.member_type("livemode") == kasko::JsonType::boolean && viewed.member_bool("livemode") == false,
               "livemode false (test keys): " + viewed.json());
        expect(viewed.member_type("fee") == kasko::JsonType::number && viewed.member_int64("fee") == 0
                   && viewed.member_double("fee") == 0.0,
               "fee 0: " + viewed.json());
        expect(viewed.member_type("charge_id") == kasko::JsonType::null, "charge_id null");
        expect(viewed.member_type("refunds") == kasko::JsonType::array && viewed.member_json("refunds") == std::string("[]"),
               "refunds []: " + viewed.json());
        std::optional<std::string> links = viewed.member_json("_links");
        expect(viewed.member_type("_links") == kasko::JsonType::object && links && links->front() == '{'
                   && contains(*links, id_of(created)),
               "_links: " + links.value_or("(none)"));
        // Absent, another type, or a name C cannot carry: nothing.
        expect(viewed.member_type("no_such_member") == kasko::JsonType::none && !viewed.member_string("no_such_member"),
               "an absent member");
        expect(!viewed.member_string("fee") && !viewed.member_int64("id") && !viewed.member_bool("id")
                   && !viewed.member_double("status"),
               "another type");
        expect(viewed.member_type(std::string("id\0x", 4)) == kasko::JsonType::none
                   && !viewed.member_string(std::string("id\0x", 4)),
               "a name with a NUL byte");
    });

    run("a Result moves, and can be released to C", [] {
        kasko::Client client(config());
        kasko::Result created = client.create_payment(request(new_offer(), "invoice"));
        const kasko_result* native = created.native_handle();
        kasko::Result moved(std::move(created));
        expect(moved.native_handle() == native && created.native_handle() == nullptr, "moved");
        expect(created.json().empty() && !created.ok() && !created.member_string("id"), "an empty Result reads as nothing");
        kasko_result* raw = moved.release();
        expect(raw == native && moved.native_handle() == nullptr, "released");
        kasko::Result adopted(raw);
        expect(id_of(adopted).size() > 0, "adopted");
    });

    run("an unknown payment is NOT_FOUND (404)", [] {
        kasko::Client client(config());
        kasko::Error e = expect_error([&] { client.get_payment(unknown_id); }, "get");
        expect(e.status() == KASKO_ERR_NOT_FOUND, std::string("status ") + e.code());
        expect(e.http_status() == 404, "http_status 404");
        expect(contains(e.json(), "\"code\":\"KASKO_ERR_NOT_FOUND\""), e.json());
    });

    run("typed getters on an error: 404", [] {
        kasko::Client client(config());
        kasko::Error e = expect_error([&] { client.get_payment(unknown_id); }, "get");
        const kasko::Result& r = e.result();
        expect(r.status() == KASKO_ERR_NOT_FOUND && !r.ok(), std::string("status ") + r.code());
        expect(r.http_status() == 404 && e.http_status() == 404, "http_status 404");
        expect(r.outcome() == kasko::Outcome::rejected && e.outcome() == kasko::Outcome::rejected,
               std::string("outcome ") + kasko::outcome_name(r.outcome()));
        expect(!r.retryable() && r.attempts() == 1, "attempts " + std::to_string(r.attempts()));
        expect(!r.message().empty() && r.message() == e.what(), "message: " + r.message());
        expect(r.request_id() && r.request_id()->rfind("req_", 0) == 0 && e.request_id() == r.request_id(),
               "request_id " + r.request_id().value_or("(none)"));
        expect(!r.pending_payment_id(), "no pending payment");
        expect(r.member_string("code") == std::string("KASKO_ERR_NOT_FOUND"), r.json());
        expect(r.member_int64("http_status") == 404, r.json());
        expect(r.member_bool("retryable") == false, r.json());
        expect(r.member_string("outcome") == std::string("rejected"), r.json());
        expect(r.member_string("request_id") == r.request_id(), r.json());
    });

    run("an unknown provider is NOT_FOUND (404)", [] {
        kasko::Client client(config());
        kasko::Error e = expect_error([&] { client.create_payment(request(new_offer(), "no_such_provider")); },
                                      "create");
        expect(e.status() == KASKO_ERR_NOT_FOUND && e.http_status() == 404, e.json());
        expect(e.outcome() == kasko::Outcome::rejected, kasko::outcome_name(e.outcome()));
    });

    run("a pending payment blocks another: PENDING_PAYMENT (422) with its id", [] {
        kasko::Client client(config());
        Offer offer = new_offer();
        kasko::Result first = client.create_payment(request(offer, "deferred"));
        std::string pending = id_of(first);
        expect(first.member_string("status") == std::string("pending"), "deferred is pending: " + first.json());
        kasko::Error e = expect_error([&] { client.create_payment(request(offer, "deferred")); }, "second create");
        expect(e.status() == KASKO_ERR_PENDING_PAYMENT, std::string("status ") + e.code());
        expect(e.http_status() == 422, "http_status 422");
        expect(e.pending_payment_id() == pending, "pending_payment_id " + e.pending_payment_id().value_or("(none)")
                                                      + ", want " + pending);
        expect(e.result().pending_payment_id() == pending && e.result().member_string("pending_payment_id") == pending,
               "the result's getter and member: " + e.json());
        expect(e.outcome() == kasko::Outcome::rejected && !e.retryable(), kasko::outcome_name(e.outcome()));
        expect(contains(e.what(), pending), std::string("the message names it: ") + e.what());
        // The pending payment is there to be looked at.
        expect(client.get_payment(pending).member_string("status") == std::string("pending"), "the pending payment");
    });

    run("a bad payment id is INVALID_ARGUMENT before any I/O", [] {
        kasko::Client client(config());
        kasko::Error e = expect_error([&] { client.get_payment("../x"); }, "get ../x");
        expect(e.status() == KASKO_ERR_INVALID_ARGUMENT, std::string("status ") + e.code());
        expect(!e.http_status().has_value(), "no HTTP status");
        expect(contains(e.json(), "\"outcome\":\"not_sent\""), e.json());
        expect_refused_before_io(e, "get ../x");
    });

    // Was "a request without a field": typed requests cannot lack one, but
    // an empty one is refused the same way, by the library.
    run("a request with an empty field is INVALID_ARGUMENT", [] {
        kasko::Client client(config());
        Offer offer = new_offer();
        kasko::PaymentRequest incomplete{offer.token, "invoice", "", offer.policy_id};
        kasko::Error e = expect_error([&] { client.create_payment(incomplete); }, "create without method");
        expect(e.status() == KASKO_ERR_INVALID_ARGUMENT && !e.http_status(), e.json());
        expect(contains(e.what(), "method"), std::string("the message names the field: ") + e.what());
        expect_refused_before_io(e, "empty method");
    });

    run("a NUL character is refused, not truncated", [] {
        kasko::Client client(config());
        kasko::Error e = expect_error([&] { client.get_payment(std::string("t123\0../x", 9)); }, "get with NUL");
        expect(e.status() == KASKO_ERR_INVALID_ARGUMENT && !e.http_status(), e.json());
        expect(contains(e.what(), "NUL"), e.what());
    });

    run("NUL in any argument: an error result made by the library", [] {
        kasko::Client client(config());
        Offer offer = new_offer();
        const std::string nul("x\0y", 3);
        kasko::Error e = expect_error([&] { client.get_payment(std::string("t123\0../x", 9)); }, "payment id");
        expect_refused_before_io(e, "payment id");
        expect(e.message() == "payment id contains a NUL character", e.message());
        expect(e.result().member_string("message") == e.message(), "the library's object: " + e.json());

        e = expect_error([&] { client.create_payment({offer.token + nul, "invoice", "invoice", offer.policy_id}); },
                         "token");
        expect_refused_before_io(e, "token");
        expect(e.message() == "payment request field \"token\" contains a NUL character", e.message());
        e = expect_error([&] { client.create_payment({offer.token, "invoice", "invoice", nul}); }, "policy_id");
        expect(contains(e.message(), "\"policy_id\" contains a NUL"), e.message());

        kasko::CallOptions options;
        options.traceparent = std::string(valid_traceparent) + nul;
        e = expect_error([&] { client.get_payment(unknown_id, options); }, "traceparent");
        expect_refused_before_io(e, "traceparent");
        expect(e.message() == "traceparent contains a NUL character", e.message());
        options.traceparent = valid_traceparent;
        options.tracestate = "a=b" + nul;
        e = expect_error([&] { client.get_payment(unknown_id, options); }, "tracestate");
        expect(e.message() == "tracestate contains a NUL character", e.message());

        e = expect_error([&] { kasko::Client bad(config() + nul); }, "config");
        expect_refused_before_io(e, "config");
        expect(e.message() == "config_json contains a NUL character", e.message());

        // The payment was not created by any of these: the offer is still open.
        expect(id_of(client.create_payment(request(offer, "invoice"))).size() > 0, "the offer is still unpaid");
    });

    run("per-call options: valid ones are accepted", [] {
        kasko::Client client(config());
        kasko::CallOptions options;
        options.timeout_ms = 30000;
        options.traceparent = valid_traceparent;
        options.tracestate = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
        kasko::Result created = client.create_payment(request(new_offer(), "invoice"), options);
        std::string id = id_of(created);
        expect(created.http_status() == 200 || created.http_status() == 201, created.json());
        expect(id_of(client.get_payment(id, options)) == id, "get with options");
        kasko::CallOptions timeout_only;
        timeout_only.timeout_ms = 3600000;  // the largest
        expect(id_of(client.get_payment(id, timeout_only)) == id, "timeout only");
        kasko::CallOptions trace_only;
        trace_only.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
        expect(id_of(client.get_payment(id, trace_only)) == id, "traceparent only");
        // Defaults pass no options at all; errors still come through them.
        kasko::Error e = expect_error([&] { client.get_payment(unknown_id, options); }, "404 with options");
        expect(e.status() == KASKO_ERR_NOT_FOUND && e.http_status() == 404, e.json());
    });

    run("per-call options: an invalid one is INVALID_ARGUMENT with the library's message", [] {
        kasko::Client client(config());
        Offer offer = new_offer();
        auto refused = [&](const kasko::CallOptions& options, const std::string& what, const std::string& names) {
            kasko::Error get = expect_error([&] { client.get_payment(unknown_id, options); }, what + " (get)");
            expect_refused_before_io(get, what);
            expect(contains(get.message(), names), what + ": the message names " + names + ": " + get.message());
            kasko::Error create = expect_error([&] { client.create_payment(request(offer, "invoice"), options); },
                                               what + " (create)");
            expect_refused_before_io(create, what + " (create)");
            expect(create.message() == get.message(), what + ": one message: " + create.message());
        };
        const char* bad_traceparents[] = {
            "",
            "not-a-traceparent",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper-case hex
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero parent id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        };
        for (const char* value : bad_traceparents) {
            kasko::CallOptions options;
            options.traceparent = value;
            refused(options, std::string("traceparent \"") + value + "\"", "traceparent");
        }
        std::string many;
        for (int i = 0; i < 33; ++i) many += (i ? ",k" : "k") + std::to_string(i) + "=v";
        const std::string bad_tracestates[] = {many, std::string(513, 'a'), "k=v\x01", "k=caf\xc3\xa9"};
        for (const std::string& value : bad_tracestates) {
            kasko::CallOptions options;
            options.traceparent = valid_traceparent;
            options.tracestate = value;
            refused(options, "tracestate of " + std::to_string(value.size()) + " bytes", "tracestate");
        }
        for (long value : {-1L, 3600001L}) {
            kasko::CallOptions options;
            options.timeout_ms = value;
            refused(options, "timeout_ms " + std::to_string(value), "timeout");
        }
        // Nothing was sent: the offer is still open.
        expect(id_of(client.create_payment(request(offer, "invoice"))).size() > 0, "the offer is still unpaid");
    });

    // The binding passes each setter's status on to the call; this is the
    // library behaviour it relies on (spec: "remembers why").
    run("C API: an options object remembers an invalid value until it is set again", [] {
        kasko::Client client(config());
        struct Free {
            void operator()(kasko_call_options* o) const noexcept { kasko_call_options_free(o); }
        };
        std::unique_ptr<kasko_call_options, Free> options(kasko_call_options_new());
        expect(options != nullptr, "kasko_call_options_new");
        expect(kasko_call_options_set_traceparent(options.get(), "bogus") == KASKO_ERR_INVALID_ARGUMENT, "setter status");
        kasko_result* raw = nullptr;
        kasko_status status = kasko_payment_get_v2(client.native_handle(), unknown_id, options.get(), &raw);
        kasko::Result refused(raw);
        expect(status == KASKO_ERR_INVALID_ARGUMENT && refused.status() == status, refused.json());
        expect(refused.outcome() == kasko::Outcome::not_sent && refused.attempts() == 0, refused.json());
        expect(contains(refused.message(), "traceparent"), refused.message());
        expect(kasko_call_options_set_traceparent(options.get(), valid_traceparent) == KASKO_OK, "valid again");
        status = kasko_payment_get_v2(client.native_handle(), unknown_id, options.get(), &raw);
        kasko::Result answered(raw);
        expect(status == KASKO_ERR_NOT_FOUND && answered.http_status() == 404, answered.json());
        expect(kasko_call_options_set_traceparent(options.get(), "bogus") == KASKO_ERR_INVALID_ARGUMENT, "bogus");
        expect(kasko_call_options_set_traceparent(options.get(), nullptr) == KASKO_OK, "NULL clears");
        status = kasko_payment_get_v2(client.native_handle(), unknown_id, options.get(), &raw);
        kasko::Result cleared(raw);
        expect(status == KASKO_ERR_NOT_FOUND, cleared.json());
        expect(kasko_payment_get_v2(client.native_handle(), unknown_id, nullptr, nullptr) == KASKO_ERR_INVALID_ARGUMENT,
               "NULL out_result");
    });

    run("without a secret key a view is UNAUTHORIZED", [] {
        kasko::Client client(config(false));
        kasko::Result created = client.create_payment(request(new_offer(), "invoice"));
        kasko::Error e = expect_error([&] { client.get_payment(id_of(created)); }, "get without secret");
        expect(e.status() == KASKO_ERR_UNAUTHORIZED, std::string("status ") + e.code());
        expect(e.http_status() == 401 || e.http_status() == 403, e.json());
    });

    run("errors are std::exceptions and copy cheaply", [] {
        kasko::Client client(config());
        try {
            client.get_payment("../x");
            throw Failure("no exception");
        } catch (const std::exception& e) {
            const auto* error = dynamic_cast<const kasko::Error*>(&e);
            expect(error != nullptr, "a kasko::Error");
            kasko::Error copy = *error;
            expect(copy.json() == error->json() && copy.status() == error->status(), "copy");
            expect(&copy.result() == &error->result(), "copies share one Result");
        }
    });

    run("a Client moves; a moved-from one is refused by the library", [] {
        kasko::Client first(config());
        kasko::Client second(std::move(first));
        expect(first.native_handle() == nullptr && second.native_handle() != nullptr, "handle moved");
        second.create_payment(request(new_offer(), "invoice"));
        kasko::Error e = expect_error([&] { first.get_payment(unknown_id); }, "moved-from");
        expect(e.status() == KASKO_ERR_INVALID_ARGUMENT, std::string("status ") + e.code());
        expect_refused_before_io(e, "moved-from");
        kasko::Client third(config());
        third = std::move(second);  // frees third's own handle
        expect(third.native_handle() != nullptr && second.native_handle() == nullptr, "assigned");
        third.get_payment(id_of(third.create_payment(request(new_offer(), "invoice"))));
    });

    run("one Client from 8 threads", [] {
        const kasko::Client client(config());
        std::atomic<int> ok{0};
        std::vector<std::thread> threads;
        std::vector<std::string> problems(8);
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                try {
                    kasko::CallOptions options;  // one per thread, and a shared client
                    options.traceparent = valid_traceparent;
                    for (int round = 0; round < 3; ++round) {
                        std::string id = id_of(client.create_payment(request(new_offer(), "invoice")));
                        if (id_of(client.get_payment(id, options)) != id) throw Failure("wrong payment");
                        try {
                            client.get_payment(unknown_id);
                            throw Failure("no 404");
                        } catch (const kasko::Error& e) {
                            if (e.status() != KASKO_ERR_NOT_FOUND) throw;
                        }
                        ++ok;
                    }
                } catch (const std::exception& e) {
                    problems[t] = e.what();
                }
            });
        }
        for (auto& thread : threads) thread.join();
        for (const auto& problem : problems) expect(problem.empty(), problem);
        expect(ok == 24, "24 rounds, got " + std::to_string(ok.load()));
    });

    run("one Error read from 8 threads", [] {
        kasko::Client client(config());
        kasko::Error e = expect_error([&] { client.get_payment(unknown_id); }, "get");
        std::vector<std::thread> threads;
        std::atomic<int> same{0};
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < 100; ++i) {
                    kasko::Error copy = e;
                    if (copy.result().member_string("code") == std::string("KASKO_ERR_NOT_FOUND")
                        && copy.http_status() == 404) {
                        ++same;
                    }
                }
            });
        }
        for (auto& thread : threads) thread.join();
        expect(same == 800, "800 reads, got " + std::to_string(same.load()));
    });

    run_event_hook_tests();
    run_webhook_tests();
    run_checkout_tests();

    curl_global_cleanup();
    std::cout << passed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
}
