import Kasko

/// Whether a call's request may have taken effect. It is the error object's
/// "outcome" as a C enum, plus the success case. kasko_outcome_name() gives
/// the names.
/// Added in 1.1.0.
@c(kasko_outcome)
public enum KaskoCOutcome: Int32 {
    /// The call succeeded: the result is the answer to the question asked.
    case outcomeSucceeded = 0
    /// No byte of the request can have been written (refused before any
    /// I/O, or libcurl never got past DNS, connect, proxy or TLS): safe to
    /// make the same call again.
    case outcomeNotSent = 1
    /// The server answered 4xx and did not carry the request out: the
    /// status says why (fix the request; after KASKO_ERR_RATE_LIMITED, wait
    /// and make it again).
    case outcomeRejected = 2
    /// The request may have taken effect (sent, and no usable answer):
    /// view the payment before creating it again.
    case outcomeUnknown = 3

    init(_ outcome: RequestOutcome) {
        switch outcome {
        case .notSent: self = .outcomeNotSent
        case .rejected: self = .outcomeRejected
        case .unknown: self = .outcomeUnknown
        }
    }
}

/// The JSON type of a result's member, as kasko_result_member_type() says.
/// Added in 1.1.0.
@c(kasko_json_type)
public enum KaskoCJSONType: Int32 {
    /// There is no one member of that name: it is absent, or appears more
    /// than once, or the arguments were NULL.
    case jsonNone = 0
    /// JSON null.
    case jsonNull = 1
    /// true or false: read it with kasko_result_member_bool().
    case jsonBool = 2
    /// A number: kasko_result_member_int64() or kasko_result_member_double().
    case jsonNumber = 3
    /// A string: kasko_result_member_string().
    case jsonString = 4
    /// An array: kasko_result_member_json() gives its text.
    case jsonArray = 5
    /// An object: kasko_result_member_json() gives its text.
    case jsonObject = 6

    init(_ value: JSONValue) {
        switch value {
        case .null: self = .jsonNull
        case .bool: self = .jsonBool
        case .number: self = .jsonNumber
        case .string: self = .jsonString
        case .array: self = .jsonArray
        case .object: self = .jsonObject
        }
    }
}
