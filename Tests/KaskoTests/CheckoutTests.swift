import Testing
@testable import Kasko

/// The checkout calls' checks that need no server: what a request must
/// hold before it is sent, and what makes an answer the one asked for.
@Suite struct CheckoutRequestTests {
    static let quote = #"{"integration_id":"in_a","item_id":"ins_a","subscription_plan_id":"pp_a","data":{"x":1}}"#
    static let offer = #"{"quote_token":"q","first_name":"A","last_name":"B","email":"a@b.c","language":"de"}"#

    @Test func aQuoteIsSentExactlyAsGiven() throws {
        let text = #"{"integration_id":"in_a","item_id":"ins_a","subscription_plan_id":"pp_a","data":{"x":1},"live_integration":"false"}"#
        #expect(try CheckoutRequest.quote(json: text).body == Array(text.utf8))
    }

    @Test func anOfferTakesEmptyArraysForObjectsAndKeepsUnknownMembers() throws {
        let text = #"{"quote_token":"q","first_name":"A","last_name":"B","email":"a@b.c","language":"de","data":[],"metadata":{},"referrer_url":"x"}"#
        #expect(try CheckoutRequest.offer(json: text).body == Array(text.utf8))
    }

    @Test(arguments: [
        ("nope", "not valid JSON"),
        ("[]", "must be a JSON object, got an array"),
        (#"{"item_id":"ins_a","subscription_plan_id":"pp_a","data":{}}"#, "is missing \"integration_id\""),
        (#"{"integration_id":"in_a","item_id":"ins_a","subscription_plan_id":"pp_a","data":[]}"#, "\"data\" must be an object"),
        (#"{"integration_id":1,"item_id":"ins_a","subscription_plan_id":"pp_a","data":{}}"#, "must be a string, got a number"),
        (#"{"integration_id":"","item_id":"ins_a","subscription_plan_id":"pp_a","data":{}}"#, "must not be empty"),
        (#"{"integration_id":"a","integration_id":"b","item_id":"ins_a","subscription_plan_id":"pp_a","data":{}}"#, "appears more than once"),
    ])
    func quoteRefusals(text: String, reason: String) {
        #expect(throws: KaskoError.self) { try CheckoutRequest.quote(json: text) }
        do {
            _ = try CheckoutRequest.quote(json: text)
        } catch {
            #expect(error.status == .invalidArgument)
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }

    @Test(arguments: [
        (#"{"quote_token":"q","first_name":"A","last_name":"B","language":"de"}"#, "is missing \"email\""),
        (#"{"quote_token":"q","first_name":"A","last_name":"B","email":"a@b.c","language":"de","metadata":"x"}"#, "\"metadata\" must be an object"),
        (#"{"quote_token":"q","first_name":"A","last_name":"B","email":"a@b.c","language":"de","data":[1]}"#, "\"data\" must be an object"),
    ])
    func offerRefusals(text: String, reason: String) {
        do {
            _ = try CheckoutRequest.offer(json: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }

    @Test func aRefusalNeverQuotesAValue() {
        do {
            _ = try CheckoutRequest.offer(json: #"{"quote_token":7,"first_name":"secret-name"}"#)
        } catch {
            #expect(!error.message.contains("secret-name"))
        }
    }

    @Test(arguments: ["", "tpol_a/b", "tpol_a b", String(repeating: "a", count: 129), "tpol_\u{e9}"])
    func policyIDsThatCannotGoIntoAPath(id: String) {
        #expect(throws: KaskoError.self) { try PolicyID(id) }
    }
}

@Suite struct CheckoutAnswerTests {
    func answer(_ body: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, body: Array(body.utf8), requestID: "req", retryAfterSeconds: nil)
    }

    @Test func aPolicyViewMustBeThePolicyAskedFor() {
        let asked = Operation.getPolicy(id: "tpol_a")
        #expect((try? CheckoutAnswers.validate(answer(#"{"id":"tpol_a","status":"paid"}"#), for: asked).get()) != nil)
        guard case .failure(let failure) = CheckoutAnswers.validate(answer(#"{"id":"tpol_b"}"#), for: asked) else {
            Issue.record("another policy was accepted")
            return
        }
        #expect(failure.error.status == .invalidResponse)
        #expect(failure.error.outcome == .unknown)
        #expect(failure.error.message.contains("not the one asked for"))
    }

    @Test(arguments: [
        (Operation.createQuote, #"{"gross_payment_amount":1}"#, "\"token\" is missing"),
        (Operation.createQuote, #"{"token":"a","token":"b"}"#, "appears twice"),
        (Operation.createOffer, #"{"id":"tpol/../x","payment_token":"p"}"#, "not a policy id"),
        (Operation.createOffer, #"{"id":"tpol_a","payment_token":5}"#, "\"payment_token\" is not a string"),
        (Operation.getOffer(id: "tpol_a"), #"["tpol_a"]"#, "expected an object"),
        (Operation.getOffer(id: "tpol_a"), "<html>", "not valid JSON"),
    ])
    func answersThatAreNotTheThingAskedFor(operation: Operation, body: String, reason: String) {
        guard case .failure(let failure) = CheckoutAnswers.validate(answer(body), for: operation) else {
            Issue.record("accepted \(body)")
            return
        }
        #expect(failure.error.message.contains(reason), "\(failure.error.message)")
    }

    @Test func anOfferWithoutAPaymentTokenIsManualUnderwriting() {
        #expect((try? CheckoutAnswers.validate(answer(#"{"id":"tpol_a","payment_token":null}"#), for: .createOffer).get()) != nil)
        #expect((try? CheckoutAnswers.validate(answer(#"{"id":"tpol_a"}"#), for: .createOffer).get()) != nil)
    }

    @Test func aQuoteIsRepeatedLikeAViewAndAnOfferIsNot() {
        #expect(Operation.createQuote.call == .view)
        #expect(Operation.createOffer.call == .create)
        #expect(Operation.getPolicy(id: "x").call == .view)
        #expect(!Operation.createOffer.watchesPolicyID)
    }

    @Test func aResolutionIsItsJSON() throws {
        let resolution = PaymentResolution(
            policyID: "tpol_a", state: .pending, paymentID: "t1", createdByThisCall: false,
            evidence: "pending_payment", message: "m \"q\"")
        let parsed = try JSONParser.parse(resolution.jsonBytes)
        #expect(parsed["object"]?.stringValue == "payment_resolution")
        #expect(parsed["state"]?.stringValue == "pending")
        #expect(parsed["payment_id"]?.stringValue == "t1")
        #expect(parsed["created_by_this_call"] == .bool(false))
        #expect(parsed["message"]?.stringValue == "m \"q\"")
    }
}
