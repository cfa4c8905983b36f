/// Checks that a 2xx answer to a checkout call (quote, offer, policy) is
/// the answer to the question asked, as `ResponseInterpreter` does for
/// payments: a JSON object carrying the member that makes it that thing,
/// once, and for a view the id that was asked for. Everything else in it
/// is the API's business and is passed on untouched.
///
/// These answers are read with the full parser rather than the payment
/// scanner: they are not on the hot path, and their members are few.
enum CheckoutAnswers {
    static func validate(_ response: HTTPResponse, for operation: Operation) -> Result<PaymentJSON, FailedAttempt> {
        let noun = Self.noun(operation)
        func refuse(_ why: String) -> Result<PaymentJSON, FailedAttempt> {
            .failure(FailedAttempt(evidence: .sentInvalidAnswer, error: KaskoError(
                verdict: OutcomeRules.verdict(.sentInvalidAnswer, for: operation.call),
                message: "response is not \(noun): \(why)", httpStatus: response.status,
                statusText: ResponseInterpreter.reasonPhrase(response.status), requestID: response.requestID)))
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(response.body)
        } catch {
            return refuse("not valid JSON (\(error.message) at byte \(error.offset))")
        }
        guard case .object(let members) = document else { return refuse("expected an object, got \(document.typeName)") }
        let key = identifyingMember(operation)
        let named = members.filter { $0.key == key }
        guard named.count <= 1 else { return refuse("a member \"\(key)\" appears twice") }
        guard let value = named.first?.value.stringValue, !value.isEmpty else {
            return refuse("\"\(key)\" is missing or not a string")
        }
        switch operation {
        case .getOffer(let asked), .getPolicy(let asked):
            guard value == asked else {
                return refuse("it is not the one asked for: asked for \(asked), got another")
            }
        case .createOffer:
            // The id goes into every later URL (payment, policy, offer).
            guard (try? PolicyID(value)) != nil else { return refuse("\"id\" is not a policy id") }
            // No token is how manual underwriting answers; anything else
            // where a token belongs is not an offer.
            if let token = document["payment_token"], token != .null, token.stringValue == nil {
                return refuse("\"payment_token\" is not a string")
            }
        case .createQuote, .createPayment, .getPayment:
            break
        }
        // Its id: a quote's is its token.
        var answer = PaymentJSON(bytes: response.body, id: .decoded(value))
        if let etag = response.etagBytes.flatMap(HTTPResponse.headerText) { answer.etag = etag }
        if let date = response.lastModifiedBytes.flatMap(HTTPResponse.headerText) { answer.lastModified = date }
        return .success(answer)
    }

    /// The member whose presence makes the answer what was asked for.
    static func identifyingMember(_ operation: Operation) -> String {
        isQuote(operation) ? "token" : "id"
    }

    private static func isQuote(_ operation: Operation) -> Bool {
        if case .createQuote = operation { return true }
        return false
    }

    static func noun(_ operation: Operation) -> String {
        switch operation {
        case .createQuote: return "a quote"
        case .createOffer, .getOffer: return "an offer"
        case .getPolicy: return "a policy"
        case .createPayment, .getPayment: return "a payment object"
        }
    }
}
