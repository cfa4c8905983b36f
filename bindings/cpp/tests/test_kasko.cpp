// Tests of kasko.hpp against a running kasko-sandbox (KASKO_SANDBOX_URL).
//
//   scripts/check-bindings cpp
//
// which compiles it with g++ -std=c++17 -Wall -Wextra -Werror (linking
// -lkasko and libcurl) and runs it under scripts/with-sandbox.
//
// libcurl is used here only to ask the sandbox for offers.
#include <kasko.hpp>

#include <curl/curl.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
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
        std::cout << "FAIL " << name << ": unexpected kasko::Error " << e.code() << ": " << e.json() << "\n";
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

Offer new_offer() {
    std::string url = env("KASKO_SANDBOX_URL") + "/__sandbox/offers";
    std::string body;
    CURL* curl = curl_easy_init();
    if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode result = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (result != CURLE_OK || status != 201) {
        throw std::runtime_error("POST " + url + " failed: " + std::to_string(status) + " " + body);
    }
    return Offer{field(body, "policy_id"), field(body, "token")};
}

std::string request(const Offer& offer, const std::string& provider) {
    return "{\"token\":\"" + offer.token + "\",\"provider\":\"" + provider + "\",\"method\":\"" + provider
           + "\",\"policy_id\":\"" + offer.policy_id + "\"}";
}

std::string config(bool with_secret = true) {
    std::string json = "{\"public_key\":\"" + env("KASKO_SANDBOX_PUBLIC_KEY", "pk_test_sandbox") + "\"";
    if (with_secret) json += ",\"secret_key\":\"" + env("KASKO_SANDBOX_SECRET_KEY", "sk_test_sandbox") + "\"";
    return json + ",\"base_url\":\"" + env("KASKO_SANDBOX_URL") + "\",\"max_retries\":0}";
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

int main() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::cout << "libkasko " << kasko::version() << " through kasko.hpp\n";

    run("version and status names", [] {
        expect(kasko::version().rfind("1.", 0) == 0, "major version 1, got " + kasko::version());
        expect(kasko::status_name(KASKO_ERR_NOT_FOUND) == "KASKO_ERR_NOT_FOUND", "status_name");
    });

    run("Error reads the error object's members, not look-alikes in strings", [] {
        kasko::Error e(KASKO_ERR_PENDING_PAYMENT,
                       "{ \"object\" : \"error\", \"errors\":[{\"message\":\"inner\",\"x\":[1,{}]}],"
                       "\"status\":\"a \\\"http_status\\\":500 \\\\\", \"http_status\" : 422 ,"
                       "\"message\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\n\",\"pending_payment_id\":\"t1\"}");
        expect(e.http_status() == 422, "http_status");
        expect(std::string(e.what()) == "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \n", std::string("what(): ") + e.what());
        expect(e.pending_payment_id() == std::string("t1"), "pending_payment_id");
        kasko::Error bare(KASKO_ERR_INTERNAL, "");
        expect(std::string(bare.what()) == "KASKO_ERR_INTERNAL" && !bare.http_status() && !bare.pending_payment_id(),
               "an empty error object");
        kasko::Error nulls(KASKO_ERR_NETWORK, "{\"http_status\":null,\"pending_payment_id\":null,\"message\":\"m\"}");
        expect(!nulls.http_status() && !nulls.pending_payment_id() && std::string(nulls.what()) == "m", "nulls");
    });

    run("a bad configuration throws INVALID_ARGUMENT", [] {
        kasko::Error e = expect_error([] { kasko::Client client("{\"public_key\":\"pk_test_x\",\"typo\":1}"); },
                                      "unknown config key");
        expect(e.status() == KASKO_ERR_INVALID_ARGUMENT, std::string("status ") + e.code());
        expect(!e.http_status().has_value(), "no HTTP status before I/O");
        expect(contains(e.json(), "\"object\":\"error\""), "error JSON: " + e.json());
        expect(std::string(e.what()).size() > 0 && !contains(e.what(), "{"), std::string("what(): ") + e.what());
    });

    run("create a payment, then view it", [] {
        kasko::Client client(config());
        std::string created = client.create_payment(request(new_offer(), "invoice"));
        std::string id = field(created, "id");
        expect(contains(created, "\"object\":\"payment\""), "payment object: " + created);
        std::string viewed = client.get_payment(id);
        expect(field(viewed, "id") == id, "the same payment: " + viewed);
        expect(field(viewed, "status") == "ok", "invoice payments are ok at once: " + viewed);
    });

    run("an unknown payment is NOT_FOUND (404)", [] {
        kasko::Client client(config());
        kasko::Error e = expect_error([&] { client.get_payment("t00000000000000000000000000000000"); }, "get");
        expect(e.status() == KASKO_ERR_NOT_FOUND, std::string("status ") + e.code());
        expect(e.http_status() == 404, "http_status 404");
        expect(contains(e.json(), "\"code\":\"KASKO_ERR_NOT_FOUND\""), e.json());
    });

    run("an unknown provider is NOT_FOUND (404)", [] {
        kasko::Client client(config());
        kasko::Error e = expect_error([&] { client.create_payment(request(new_offer(), "no_such_provider")); },
                                      "create");
        expect(e.status() == KASKO_ERR_NOT_FOUND && e.http_status() == 404, e.json());
    });

    run("a pending payment blocks another: PENDING_PAYMENT (422) with its id", [] {
        kasko::Client client(config());
        Offer offer = new_offer();
        std::string pending = field(client.create_payment(request(offer, "deferred")), "id");
        kasko::Error e = expect_error([&] { client.create_payment(request(offer, "deferred")); }, "second create");
        expect(e.status() == KASKO_ERR_PENDING_PAYMENT, std::string("status ") + e.code());
        expect(e.http_status() == 422, "http_status 422");
        expect(e.pending_payment_id() == pending, "pending_payment_id " + e.pending_payment_id().value_or("(none)")
                                                      + ", want " + pending);
        expect(contains(e.what(), pending), std::string("the message names it: ") + e.what());
    });

    run("a bad payment id is INVALID_ARGUMENT before any I/O", [] {
        kasko::Client client(config());
        kasko::Error e = expect_error([&] { client.get_payment("../x"); }, "get ../x");
        expect(e.status() == KASKO_ERR_INVALID_ARGUMENT, std::string("status ") + e.code());
        expect(!e.http_status().has_value(), "no HTTP status");
        expect(contains(e.json(), "\"outcome\":\"not_sent\""), e.json());
    });

    run("a request without a field is INVALID_ARGUMENT", [] {
        kasko::Client client(config());
        Offer offer = new_offer();
        std::string incomplete = "{\"token\":\"" + offer.token + "\",\"provider\":\"invoice\",\"policy_id\":\""
                                 + offer.policy_id + "\"}";
        kasko::Error e = expect_error([&] { client.create_payment(incomplete); }, "create without method");
        expect(e.status() == KASKO_ERR_INVALID_ARGUMENT && !e.http_status(), e.json());
        expect(contains(e.what(), "method"), std::string("the message names the field: ") + e.what());
    });

    run("a NUL character is refused, not truncated", [] {
        kasko::Client client(config());
        kasko::Error e = expect_error([&] { client.get_payment(std::string("t123\0../x", 9)); }, "get with NUL");
        expect(e.status() == KASKO_ERR_INVALID_ARGUMENT && !e.http_status(), e.json());
        expect(contains(e.what(), "NUL"), e.what());
    });

    run("without a secret key a view is UNAUTHORIZED", [] {
        kasko::Client client(config(false));
        std::string created = client.create_payment(request(new_offer(), "invoice"));
        kasko::Error e = expect_error([&] { client.get_payment(field(created, "id")); }, "get without secret");
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
        }
    });

    run("a Client moves; a moved-from one is refused by the library", [] {
        kasko::Client first(config());
        kasko::Client second(std::move(first));
        expect(first.native_handle() == nullptr && second.native_handle() != nullptr, "handle moved");
        second.create_payment(request(new_offer(), "invoice"));
        kasko::Error e = expect_error([&] { first.get_payment("t00000000000000000000000000000000"); }, "moved-from");
        expect(e.status() == KASKO_ERR_INVALID_ARGUMENT, std::string("status ") + e.code());
        kasko::Client third(config());
        third = std::move(second);  // frees third's own handle
        expect(third.native_handle() != nullptr && second.native_handle() == nullptr, "assigned");
        third.get_payment(field(third.create_payment(request(new_offer(), "invoice")), "id"));
    });

    run("one Client from 8 threads", [] {
        const kasko::Client client(config());
        std::atomic<int> ok{0};
        std::vector<std::thread> threads;
        std::vector<std::string> problems(8);
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                try {
                    for (int round = 0; round < 3; ++round) {
                        std::string id = field(client.create_payment(request(new_offer(), "invoice")), "id");
                        if (field(client.get_payment(id), "id") != id) throw Failure("wrong payment");
                        try {
                            client.get_payment("t00000000000000000000000000000000");
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

    curl_global_cleanup();
    std::cout << passed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
}
