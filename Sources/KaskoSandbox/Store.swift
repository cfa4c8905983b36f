// The sandbox's state: offers (policy + payment token) and payments.
//
// One mutex guards everything. Each operation is a single short critical
// section, so the checks that must be atomic together (is the policy
// pending? paid? then record the payment) cannot interleave between event
// loops — concurrent creates on one policy yield exactly one payment.

import Synchronization

enum PaymentStatus: String, Sendable {
    case pending
    case ok
    case failed
}

struct Offer: Sendable {
    let policyId: String
    let token: String
    /// One customer per policy, so every payment on it shows the same id.
    let customerId: String
    var pendingPaymentId: String?
    var paidPaymentId: String?
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

final class Store: Sendable {
    private struct State {
        var offers: [String: Offer] = [:]
        var payments: [String: Payment] = [:]
    }

    private let state = Mutex(State())

    func addOffer(_ offer: Offer) {
        state.withLock { $0.offers[offer.policyId] = offer }
    }

    func payment(id: String) -> Payment? {
        state.withLock { $0.payments[id] }
    }

    /// Applies the API's policy checks in its order (policy, token, pending,
    /// paid) and records the payment, all under one lock.
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
            guard offer.token == token else { return .tokenMismatch }
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
            state.offers[policyId] = offer
            state.payments[id] = payment
            return .created(payment)
        }
    }

    /// Moves a pending payment to `ok` or `failed`. A failed payment releases
    /// the policy so that another payment can be attempted, as a declined
    /// asynchronous payment does on the real platform.
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
                if status == .ok { offer.paidPaymentId = paymentId }
                state.offers[payment.policyId] = offer
            }
            return .settled(payment)
        }
    }
}
