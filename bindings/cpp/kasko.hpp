// kasko.hpp - the C++17 binding of libkasko, header-only.
//
//   #include <kasko.hpp>
//
//   kasko::Client client(R"({"public_key":"pk_test_...","secret_key":"sk_test_..."})");
//   std::string payment = client.create_payment(
//       R"({"token":"...","provider":"invoice","method":"invoice","policy_id":"tpol_..."})");
//   std::string same = client.get_payment("t84223322f013e2287210b6295010fc6d");
//
// A thin layer over <kasko.h>: it translates types and ownership only.
// Configuration, requests and results are the C API's JSON text, unchanged;
// validation, retries and the shapes of the JSON are the library's.
//
// - kasko::Client owns one kasko_client (RAII, move-only). Its member
//   functions are const and may be called from many threads at once, as the
//   C API allows. A moved-from Client holds no handle: calls on it throw the
//   library's KASKO_ERR_INVALID_ARGUMENT.
// - Every failure throws kasko::Error (a std::runtime_error whose what() is
//   the error object's "message"), carrying the kasko_status, the HTTP status
//   (std::nullopt when no response came) and the error object as JSON text.
// - Every string the library hands out is copied into a std::string and
//   freed with kasko_string_free() at once: nothing for the caller to free.
//
// Link with -lkasko (pkg-config --cflags --libs kasko).
#ifndef KASKO_HPP
#define KASKO_HPP

#if !defined(__cplusplus) || __cplusplus < 201703L
#error "kasko.hpp needs C++17"
#endif

#include <kasko.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace kasko {

/// The loaded library's version, "MAJOR.MINOR.PATCH".
inline std::string version() { return kasko_version(); }

/// The name of a status, e.g. "KASKO_ERR_NOT_FOUND" ("KASKO_STATUS_UNKNOWN"
/// for a value this library does not know).
inline std::string status_name(kasko_status status) { return kasko_status_name(status); }

namespace detail {

// A minimal reader of the library's error object: it finds one member of
// the top-level JSON object, to give kasko::Error its typed accessors. It
// reads, it does not validate: the library has already done that.
class JsonMember {
public:
    static std::optional<std::string_view> raw(std::string_view json, std::string_view key) {
        std::size_t i = 0;
        skip_space(json, i);
        if (i >= json.size() || json[i] != '{') return std::nullopt;
        ++i;
        for (;;) {
            skip_space(json, i);
            if (i >= json.size() || json[i] != '"') return std::nullopt;
            std::size_t key_start = i;
            if (!skip_value(json, i)) return std::nullopt;
            std::optional<std::string> name = string(json.substr(key_start, i - key_start));
            skip_space(json, i);
            if (i >= json.size() || json[i] != ':') return std::nullopt;
            ++i;
            skip_space(json, i);
            std::size_t value_start = i;
            if (!skip_value(json, i)) return std::nullopt;
            if (name && *name == key) return json.substr(value_start, i - value_start);
            skip_space(json, i);
            if (i >= json.size() || json[i] != ',') return std::nullopt;
            ++i;
        }
    }

    // The decoded string of a raw JSON string value, or nullopt if it is not one.
    static std::optional<std::string> string(std::string_view raw) {
        if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') return std::nullopt;
        std::string out;
        for (std::size_t i = 1; i + 1 < raw.size(); ++i) {
            char c = raw[i];
            if (c != '\\') {
                out += c;
                continue;
            }
            if (++i + 1 >= raw.size()) return std::nullopt;
            switch (raw[i]) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                unsigned long code = 0;
                if (!hex4(raw, i + 1, code)) return std::nullopt;
                i += 4;
                if (code >= 0xD800 && code < 0xDC00 && i + 6 < raw.size() && raw[i + 1] == '\\'
                    && raw[i + 2] == 'u') {
                    unsigned long low = 0;
                    if (hex4(raw, i + 3, low) && low >= 0xDC00 && low < 0xE000) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        i += 6;
                    }
                }
                utf8(out, code);
                break;
            }
            default: return std::nullopt;
            }
        }
        return out;
    }

    // The value of a raw JSON integer, or nullopt (null, or not an integer).
    static std::optional<int> integer(std::string_view raw) {
        if (raw.empty() || raw.size() > 9) return std::nullopt;
        int value = 0;
        for (char c : raw) {
            if (c < '0' || c > '9') return std::nullopt;
            value = value * 10 + (c - '0');
        }
        return value;
    }

private:
    static void skip_space(std::string_view s, std::size_t& i) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    }

    // Moves i past one value (string, object, array or scalar).
    static bool skip_value(std::string_view s, std::size_t& i) {
        int depth = 0;
        do {
            if (i >= s.size()) return false;
            char c = s[i];
            if (c == '"') {
                for (++i; i < s.size() && s[i] != '"'; ++i) {
                    if (s[i] == '\\') ++i;
                }
                if (i >= s.size()) return false;
                ++i;
            } else if (c == '{' || c == '[') {
                ++depth;
                ++i;
            } else if (c == '}' || c == ']') {
                if (depth == 0) return false;
                --depth;
                ++i;
            } else if (depth > 0) {
                ++i;
            } else {
                std::size_t start = i;
                while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' '
                       && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
                    ++i;
                }
                if (i == start) return false;
            }
        } while (depth > 0);
        return true;
    }

    static bool hex4(std::string_view s, std::size_t at, unsigned long& out) {
        if (at + 4 > s.size()) return false;
        out = 0;
        for (std::size_t k = at; k < at + 4; ++k) {
            char c = s[k];
            unsigned long digit;
            if (c >= '0' && c <= '9') digit = static_cast<unsigned long>(c - '0');
            else if (c >= 'a' && c <= 'f') digit = static_cast<unsigned long>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') digit = static_cast<unsigned long>(c - 'A' + 10);
            else return false;
            out = out * 16 + digit;
        }
        return true;
    }

    static void utf8(std::string& out, unsigned long code) {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }
};

struct ErrorData {
    kasko_status status;
    std::string json;
    std::optional<int> http_status;
    std::optional<std::string> pending_payment_id;
};

inline std::shared_ptr<const ErrorData> make_error_data(kasko_status status, std::string json) {
    auto data = std::make_shared<ErrorData>();
    data->status = status;
    data->json = std::move(json);
    if (auto raw = JsonMember::raw(data->json, "http_status")) data->http_status = JsonMember::integer(*raw);
    if (auto raw = JsonMember::raw(data->json, "pending_payment_id")) {
        data->pending_payment_id = JsonMember::string(*raw);
    }
    return data;
}

inline std::string error_message(const ErrorData& data) {
    if (auto raw = JsonMember::raw(data.json, "message")) {
        if (auto text = JsonMember::string(*raw)) return *text;
    }
    return kasko_status_name(data.status);
}

struct StringFree {
    void operator()(char* string) const noexcept { kasko_string_free(string); }
};
using OwnedString = std::unique_ptr<char, StringFree>;

}  // namespace detail

/// A failed libkasko call. what() is the error object's "message".
/// Copying an Error never throws (its data is shared).
class Error : public std::runtime_error {
public:
    /// An error from a status and the library's error object (JSON text).
    Error(kasko_status status, std::string json)
        : Error(detail::make_error_data(status, std::move(json))) {}

    /// The status of the call: never KASKO_OK. It may be a value newer than
    /// this header's enum; treat unknown values like KASKO_ERR_INTERNAL.
    kasko_status status() const noexcept { return data_->status; }

    /// The status's name, e.g. "KASKO_ERR_NOT_FOUND".
    const char* code() const noexcept { return kasko_status_name(data_->status); }

    /// The API's HTTP status, or std::nullopt when no response came.
    std::optional<int> http_status() const noexcept { return data_->http_status; }

    /// On KASKO_ERR_PENDING_PAYMENT, the id of the policy's pending payment.
    const std::optional<std::string>& pending_payment_id() const noexcept { return data_->pending_payment_id; }

    /// The library's error object, as JSON text ("outcome", "retryable",
    /// "request_id", ... are there). Empty only if the library ran out of memory.
    const std::string& json() const noexcept { return data_->json; }

private:
    explicit Error(std::shared_ptr<const detail::ErrorData> data)
        : std::runtime_error(detail::error_message(*data)), data_(std::move(data)) {}

    std::shared_ptr<const detail::ErrorData> data_;
};

namespace detail {

// A C string cannot carry a NUL byte: rather than let C see a shorter
// string, refuse it with the error object the library uses before any I/O.
inline const char* c_string(const std::string& value, const char* name) {
    if (value.find('\0') != std::string::npos) {
        throw Error(KASKO_ERR_INVALID_ARGUMENT,
                    std::string("{\"object\":\"error\",\"code\":\"KASKO_ERR_INVALID_ARGUMENT\","
                                "\"http_status\":null,\"status\":null,\"message\":\"")
                        + name
                        + " contains a NUL character\",\"pending_payment_id\":null,\"retryable\":false,"
                          "\"outcome\":\"not_sent\",\"attempts\":0,\"request_id\":null}");
    }
    return value.c_str();
}

// Takes ownership of a string the library handed out and returns its text,
// or throws the Error it describes.
inline std::string take(kasko_status status, char* raw) {
    OwnedString owned(raw);
    std::string text = owned ? std::string(owned.get()) : std::string();
    owned.reset();
    if (status != KASKO_OK) throw Error(status, std::move(text));
    if (text.empty()) throw Error(KASKO_ERR_INTERNAL, std::string());
    return text;
}

}  // namespace detail

/// A client of the KASKO Payments API, owning one kasko_client.
class Client {
public:
    /// Creates a client from the C API's JSON configuration ("public_key",
    /// "secret_key", "base_url", "timeout_ms", ...; see kasko_client_new()).
    /// Throws kasko::Error (KASKO_ERR_INVALID_ARGUMENT for a bad configuration).
    explicit Client(const std::string& config_json) {
        const char* config = detail::c_string(config_json, "config_json");
        kasko_client* handle = nullptr;
        char* error = nullptr;
        kasko_status status = kasko_client_new(config, &handle, &error);
        detail::OwnedString owned_error(error);
        if (status != KASKO_OK) {
            kasko_client_free(handle);  // NULL per the contract; never leak one
            throw Error(status, owned_error ? std::string(owned_error.get()) : std::string());
        }
        if (handle == nullptr) throw Error(KASKO_ERR_INTERNAL, std::string());
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

    /// Creates a payment from the C API's request JSON ("token", "provider",
    /// "method", "policy_id") and returns the payment object as the API sent it.
    std::string create_payment(const std::string& request_json) const {
        const char* request = detail::c_string(request_json, "request_json");
        char* out = nullptr;
        kasko_status status = kasko_payment_create(handle_, request, &out);
        return detail::take(status, out);
    }

    /// Views a payment and returns the payment object as the API sent it.
    std::string get_payment(const std::string& payment_id) const {
        const char* id = detail::c_string(payment_id, "payment_id");
        char* out = nullptr;
        kasko_status status = kasko_payment_get(handle_, id, &out);
        return detail::take(status, out);
    }

    /// The C handle, still owned by this Client (nullptr once moved from).
    kasko_client* native_handle() const noexcept { return handle_; }

private:
    kasko_client* handle_ = nullptr;
};

}  // namespace kasko

#endif  // KASKO_HPP
