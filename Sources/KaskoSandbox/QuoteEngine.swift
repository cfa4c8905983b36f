// POST /quotes: the validation of a v3 quote request, the deterministic
// price, and the deterministic token (contract 14).
//
// Pure: the router turns a refusal into its documented error body and
// stores the quote under its token.

import CSandboxHMAC

/// One validation problem, as the API lists it in "errors".
struct FieldError: Equatable, Sendable {
    enum Code: String, Sendable {
        case required
        case invalidValue = "invalid_value"
    }

    let code: Code
    let field: String
}

/// A priced quote, kept by the store under its token for offers.
struct Quote: Equatable, Sendable {
    let token: String
    let integrationId: String
    let itemId: String
    let plan: Catalog.Plan
    let tripCost: Int
    let startDay: CalendarDay
    let gross: Int
    let premiumTax: Int
    let net: Int

    static let taxRateText = "0.19"
}

enum QuoteRefusal: Error, Equatable {
    case notObject
    case invalid([FieldError])
    case notFound(String)
    case conflict(String)
}

enum QuoteEngine {
    /// Validates a quote body in the contract's order: the top-level fields
    /// (all problems at once), then integration and item, then plan, then
    /// the product's data fields.
    static func quote(_ body: [String: JSONValue]?) -> Result<Quote, QuoteRefusal> {
        guard let body else { return .failure(.notObject) }

        var problems: [FieldError] = []
        var strings: [String: String] = [:]
        for name in ["item_id", "subscription_plan_id", "integration_id"] {
            switch body[name] {
            case nil, .null?: problems.append(FieldError(code: .required, field: name))
            case .string(let text)? where text.isEmpty: problems.append(FieldError(code: .required, field: name))
            case .string(let text)?: strings[name] = text
            default: problems.append(FieldError(code: .invalidValue, field: name))
            }
        }
        var data: [String: JSONValue] = [:]
        switch body["data"] {
        case nil, .null?: problems.append(FieldError(code: .required, field: "data"))
        case .object(let members)?: data = members
        default: problems.append(FieldError(code: .invalidValue, field: "data"))
        }
        guard problems.isEmpty, let itemId = strings["item_id"], let planId = strings["subscription_plan_id"],
              let integrationId = strings["integration_id"]
        else { return .failure(.invalid(problems)) }

        if integrationId == Catalog.buildingIntegration {
            return .failure(.conflict("Pricing logic for integration - \(integrationId) is being created."))
        }
        guard Catalog.itemOfIntegration[integrationId] == itemId else {
            return .failure(.notFound("Integration - \(integrationId) product - \(itemId) not found."))
        }
        guard let plan = Catalog.Plan(rawValue: planId) else {
            return .failure(.notFound("Subscription plan with id - \(planId) not found."))
        }

        var tripCost: Int?
        switch data["trip_cost"] {
        case nil, .null?: problems.append(FieldError(code: .required, field: "trip_cost"))
        case .int(let cost)? where Catalog.tripCostRange.contains(cost): tripCost = cost
        default: problems.append(FieldError(code: .invalidValue, field: "trip_cost"))
        }
        var startDay: CalendarDay?
        switch data["policy_start_date"] {
        case nil, .null?: problems.append(FieldError(code: .required, field: "policy_start_date"))
        case .string(let text)? where CalendarDay.parse(text) != nil: startDay = CalendarDay.parse(text)
        default: problems.append(FieldError(code: .invalidValue, field: "policy_start_date"))
        }
        guard problems.isEmpty, let tripCost, let startDay else { return .failure(.invalid(problems)) }

        return .success(price(integrationId: integrationId, itemId: itemId, plan: plan, tripCost: tripCost,
                              startDay: startDay))
    }

    /// The contract's price: single max(500, 4 %), annual 89.00 + 1 %; the
    /// 19 % tax is included in the gross and rounded half up.
    static func price(
        integrationId: String, itemId: String, plan: Catalog.Plan, tripCost: Int, startDay: CalendarDay
    ) -> Quote {
        let gross: Int
        switch plan {
        case .single: gross = max(500, tripCost * 4 / 100)
        case .annual: gross = 8900 + tripCost / 100
        }
        let tax = (gross * 19 + 59) / 119
        return Quote(
            token: token(integrationId: integrationId, itemId: itemId, plan: plan, tripCost: tripCost,
                         startDay: startDay),
            integrationId: integrationId, itemId: itemId, plan: plan, tripCost: tripCost, startDay: startDay,
            gross: gross, premiumTax: tax, net: gross - tax)
    }

    /// "qtok_" + 40 hex: an HMAC-SHA1 of what determines the price, so the
    /// same quote always has the same token (and different ones differ).
    static func token(
        integrationId: String, itemId: String, plan: Catalog.Plan, tripCost: Int, startDay: CalendarDay
    ) -> String {
        let message = [integrationId, itemId, plan.rawValue, String(tripCost), startDay.text].joined(separator: "\n")
        return "qtok_" + HMACSHA1.hex(key: Array("kasko-sandbox quote token".utf8), message: Array(message.utf8))
    }
}

/// HMAC-SHA1 from libcrypto (CSandboxHMAC).
enum HMACSHA1 {
    private static let hexDigits: [Character] = Array("0123456789abcdef")

    /// 40 lowercase hex digits; 40 zeros should libcrypto fail (it does not
    /// for SHA-1, which OpenSSL 3's default provider always has).
    static func hex(key: [UInt8], message: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 20)
        let status = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                digest.withUnsafeMutableBytes { out in
                    csandbox_hmac_sha1(keyBytes.baseAddress, keyBytes.count, messageBytes.baseAddress,
                                       messageBytes.count, out.bindMemory(to: UInt8.self).baseAddress)
                }
            }
        }
        if status != 0 { digest = [UInt8](repeating: 0, count: 20) }
        var text = ""
        text.reserveCapacity(40)
        for byte in digest {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0xF)])
        }
        return text
    }
}
