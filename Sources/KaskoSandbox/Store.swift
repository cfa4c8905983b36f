// The sandbox's state: quotes, offers (the unpaid policy and, once paid,
// the policy: one record per policy id), payments and the counters.
//
// One mutex guards everything. Each operation is a single short critical
// section, so the checks that must be atomic together (is the policy
// pending? paid? then record the payment, accept the offer, count it)
// cannot interleave between event loops — concurrent creates on one policy
// yield exactly one payment.

import Synchronization

enum PaymentStatus: String, Sendable {
    case pending
    case ok
    case failed
}

/// The offer's side of the record (GET /offers).
enum OfferStatus: String, Sendable {
    /// Manual underwriting: waiting for POST /__sandbox/offers/{id}/approve.
    case pending
    /// Payable: it has a payment token and no live payment.
    case ready
    /// A payment was accepted on it (pending or settled).
    case accepted
}

/// The policy's side of the record (GET /policies).
enum PolicyStatus: String, Sendable {
    /// Until the asynchronous creation after a payment became "ok".
    case pending
    case paid
}

/// The customer's part of an offer, as POST /policies gave it.
struct Customer: Sendable, Equatable {
    let firstName: String
    let lastName: String
    let email: String
    let language: String
}

/// One policy id's record: the offer, and the policy it becomes.
struct Offer: Sendable {
    let policyId: String
    /// The payment token; nil while the offer awaits approval.
    var token: String?
    /// One customer per policy, so every payment on it shows the same id.
    let customerId: String
    var pendingPaymentId: String?
    var paidPaymentId: String?

    let quote: Quote
    let insurerPolicyId: String
    let customer: Customer
    /// The caller's data and metadata, as JSON text to echo.
    let dataJSON: String
    let metadataJSON: String
    let livemode: Bool

    var status: OfferStatus
    var policyStatus: PolicyStatus = .pending
    /// Changes with every change of the record: the ETag of GET /policies.
    var versionId: String = ""
    /// Epoch seconds of the last change: Last-Modified.
    var lastModified: Int
    let createdAt: Int
    var acceptedAt: Int?
    var policyCreatedAt: Int?
    /// Every payment ever created on the policy, in order.
    var paymentIds: [String] = []
}

struct Payment: Sendable {
    let id: String
    let livemode: Bool
    let provider: String
    let method: String
    var status: PaymentStatus
    let policyId: String
    let token: String
    var processedAt: String?
    var errorCode: String?
    let customerId: String
}

enum CreatePaymentOutcome: Sendable {
    case created(Payment)
    case unknownPolicy
    case tokenMismatch
    case pendingPayment(paymentId: String)
    case alreadyPaid
}

enum SettleOutcome: Sendable {
    case settled(Payment)
    case notFound
    case notPending(Payment)
}

enum ApproveOutcome: Sendable {
    case approved(Offer)
    case notFound
    case notPending(OfferStatus)
}

/// GET /__sandbox/stats.
struct StoreCounts: Sendable, Equatable {
    var quotes = 0
    var offers = 0
    var payments = 0
    var policiesPaid = 0
}

final class Store: Sendable {
    private struct State {
        var quotes: [String: Quote] = [:]
        var offers: [String: Offer] = [:]
        var payments: [String: Payment] = [:]
        var counts = StoreCounts()
        /// For version ids; here so that timers (no connection) can draw too.
        var rng = FastRandom()

        mutating func touch(_ offer: inout Offer) {
            offer.versionId = Identifiers.versionId(using: &rng)
            offer.lastModified = Timestamps.nowEpochSeconds()
        }
    }

    private let state = Mutex(State())

    /// Records an answered quote (the same token again replaces an equal one).
    func addQuote(_ quote: Quote) {
        state.withLock { state in
            state.quotes[quote.token] = quote
            state.counts.quotes += 1
        }
    }

    func quote(token: String) -> Quote? {
        state.withLock { $0.quotes[token] }
    }

    /// Stores a new offer with a fresh version id; returns it as stored.
    @discardableResult
    func addOffer(_ offer: Offer) -> Offer {
        state.withLock { state in
            var stored = offer
            state.touch(&stored)
            state.offers[offer.policyId] = stored
            state.counts.offers += 1
            return stored
        }
    }

    func offer(id: String) -> Offer? {
        state.withLock { $0.offers[id] }
    }

    func payment(id: String) -> Payment? {
        state.withLock { $0.payments[id] }
    }

    func counts() -> StoreCounts {
        state.withLock { $0.counts }
    }

    /// Manual underwriting done: the offer gets its payment token.
    func approve(offerId: String, token: String) -> ApproveOutcome {
        state.withLock { state in
            guard var offer = state.offers[offerId] else { return .notFound }
            guard offer.status == .pending else { return .notPending(offer.status) }
            offer.status = .ready
            offer.token = token
            state.touch(&offer)
            state.offers[offerId] = offer
            return .approved(offer)
        }
    }

    /// Applies the API's policy checks in its order (policy, token, pending,
    /// paid) and records the payment, all under one lock. The offer is
    /// accepted and the payment listed and counted in the same section.
    ///
    /// `settled` says whether the provider settles at once (status "ok")
    /// or leaves the payment pending.
    func createPayment(
        id: String,
        livemode: Bool,
        provider: String,
        method: String,
        policyId: String,
        token: String,
        settled: Bool
    ) -> CreatePaymentOutcome {
        state.withLock { state in
            guard var offer = state.offers[policyId] else { return .unknownPolicy }
            // An offer awaiting approval has no token: any token mismatches.
            guard let offerToken = offer.token, offerToken == token else { return .tokenMismatch }
            if let pending = offer.pendingPaymentId { return .pendingPayment(paymentId: pending) }
            if offer.paidPaymentId != nil { return .alreadyPaid }

            let payment = Payment(
                id: id,
                livemode: livemode,
                provider: provider,
                method: method,
                status: settled ? .ok : .pending,
                policyId: policyId,
                token: token,
                processedAt: settled ? Timestamps.nowISO8601() : nil,
                errorCode: nil,
                customerId: offer.customerId
            )
            if settled {
                offer.paidPaymentId = id
            } else {
                offer.pendingPaymentId = id
            }
            offer.status = .accepted
            offer.acceptedAt = Timestamps.nowEpochSeconds()
            offer.paymentIds.append(id)
            state.touch(&offer)
            state.offers[policyId] = offer
            state.payments[id] = payment
            state.counts.payments += 1
            return .created(payment)
        }
    }

    /// Moves a pending payment to `ok` or `failed`. A failed payment releases
    /// the policy so that another payment can be attempted, and puts the
    /// offer back to "ready", as a declined asynchronous payment does on the
    /// real platform.
    func settle(paymentId: String, to status: PaymentStatus) -> SettleOutcome {
        state.withLock { state in
            guard var payment = state.payments[paymentId] else { return .notFound }
            guard payment.status == .pending else { return .notPending(payment) }

            payment.status = status
            payment.processedAt = Timestamps.nowISO8601()
            payment.errorCode = status == .failed ? "payment_failed" : nil
            state.payments[paymentId] = payment

            if var offer = state.offers[payment.policyId] {
                if offer.pendingPaymentId == paymentId { offer.pendingPaymentId = nil }
                if status == .ok {
                    offer.paidPaymentId = paymentId
                } else if offer.paidPaymentId == nil {
                    offer.status = .ready
                    offer.acceptedAt = nil
                }
                state.touch(&offer)
                state.offers[payment.policyId] = offer
            }
            return .settled(payment)
        }
    }

    /// The asynchronous policy creation after a payment became "ok": the
    /// policy becomes "paid" (once). Returns the record when it changed.
    func issuePolicy(policyId: String) -> Offer? {
        state.withLock { state in
            guard var offer = state.offers[policyId], offer.paidPaymentId != nil, offer.policyStatus == .pending
            else { return nil }
            offer.policyStatus = .paid
            offer.policyCreatedAt = Timestamps.nowEpochSeconds()
            state.touch(&offer)
            state.offers[policyId] = offer
            state.counts.policiesPaid += 1
            return offer
        }
    }
}
