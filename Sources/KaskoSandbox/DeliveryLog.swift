// Every webhook delivery and its attempts, for GET /__sandbox/webhooks/deliveries:
// how tests (and people) see what was sent, redelivered and given up.

import Synchronization

struct DeliveryAttempt: Sendable, Equatable {
    /// When the attempt ended, ISO 8601.
    let at: String
    /// The receiver's status, when it answered at all.
    let httpStatus: Int?
    /// Why there was no answer (connection refused, timeout, ...).
    let error: String?

    var acknowledged: Bool { httpStatus.map { (200...299).contains($0) } ?? false }
}

enum DeliveryState: String, Sendable {
    /// Not yet acknowledged; another attempt is on its way or scheduled.
    case pending
    case delivered
    /// Every attempt failed: given up.
    case failed
}

struct Delivery: Sendable {
    let id: String
    let event: String
    let policyId: String
    var state: DeliveryState = .pending
    var attempts: [DeliveryAttempt] = []
}

final class DeliveryLog: Sendable {
    private struct State {
        var deliveries: [Delivery] = []
        var indexOfId: [String: Int] = [:]
        var rng = FastRandom()
    }

    private let state = Mutex(State())

    /// A new pending delivery; returns its id (the X-KASKO-Delivery).
    func start(event: String, policyId: String) -> String {
        state.withLock { state in
            let id = Identifiers.deliveryId(using: &state.rng)
            state.indexOfId[id] = state.deliveries.count
            state.deliveries.append(Delivery(id: id, event: event, policyId: policyId))
            return id
        }
    }

    /// Records an attempt's end. `last` says no other attempt follows a
    /// failure, so that the delivery is given up.
    func record(_ attempt: DeliveryAttempt, delivery id: String, last: Bool) {
        state.withLock { state in
            guard let index = state.indexOfId[id] else { return }
            state.deliveries[index].attempts.append(attempt)
            if attempt.acknowledged {
                state.deliveries[index].state = .delivered
            } else if last {
                state.deliveries[index].state = .failed
            }
        }
    }

    var count: Int {
        state.withLock { $0.deliveries.count }
    }

    /// {"deliveries":[...]} in creation order.
    func listing() -> String {
        let deliveries = state.withLock { $0.deliveries }
        var items: [String] = []
        items.reserveCapacity(deliveries.count)
        for delivery in deliveries {
            let attempts = delivery.attempts.map { attempt -> String in
                var object = JSONObjectWriter()
                object.string("at", attempt.at)
                if let status = attempt.httpStatus {
                    object.int("http_status", status)
                } else {
                    object.null("http_status")
                }
                object.optionalString("error", attempt.error)
                return object.finish()
            }
            var object = JSONObjectWriter()
            object.string("delivery", delivery.id)
            object.string("event", delivery.event)
            object.string("policy_id", delivery.policyId)
            object.string("state", delivery.state.rawValue)
            object.raw("attempts", "[" + attempts.joined(separator: ",") + "]")
            items.append(object.finish())
        }
        var body = JSONObjectWriter()
        body.raw("deliveries", "[" + items.joined(separator: ",") + "]")
        return body.finish()
    }
}
