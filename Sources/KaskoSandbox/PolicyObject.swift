// JSON of policies: the policy object of GET /policies/{id} and the
// policy.created webhook payload (reference 6.6), members in the
// contract's order. Neither carries the payment token.

enum PolicyObject {
    static func startDate(_ offer: Offer) -> String {
        offer.quote.startDay.midnightISO
    }

    static func endDate(_ offer: Offer) -> String {
        offer.quote.plan.endDay(from: offer.quote.startDay).midnightISO
    }

    /// [] until paid, then the one certificate.
    static func assets(_ offer: Offer, baseURL: String) -> String {
        guard offer.policyStatus == .paid else { return "[]" }
        var asset = JSONObjectWriter()
        asset.string("designation", "policy_document")
        asset.string("name", "Policy Certificate")
        asset.string("extension", "pdf")
        asset.string("href", baseURL + "/__sandbox/assets/" + offer.policyId + "/policy.pdf")
        return "[" + asset.finish() + "]"
    }

    /// GET /policies/{id}.
    static func full(_ offer: Offer, baseURL: String) -> String {
        var object = JSONObjectWriter()
        object.string("id", offer.policyId)
        object.string("version_id", offer.versionId)
        object.string("item_id", offer.quote.itemId)
        object.string("product_id", offer.quote.itemId)
        object.string("insurer_policy_id", offer.insurerPolicyId)
        object.string("first_name", offer.customer.firstName)
        object.string("last_name", offer.customer.lastName)
        object.string("email", offer.customer.email)
        object.string("currency", Catalog.currency)
        object.string("language", offer.customer.language)
        object.string("status", offer.policyStatus.rawValue)
        object.bool("expired", false)
        object.optionalString("policy_created_date", offer.policyCreatedAt.map(Timestamps.iso8601Offset))
        object.string("start_date", startDate(offer))
        object.string("end_date", endDate(offer))
        object.null("termination_date")
        object.int("gross_premium", offer.quote.gross)
        object.int("premium_tax", offer.quote.premiumTax)
        object.raw("data", offer.dataJSON)
        object.raw("quote", OfferObject.quote(offer.quote))
        object.raw("metadata", offer.metadataJSON)
        object.raw("assets", assets(offer, baseURL: baseURL))
        object.raw("_links", OfferObject.selfLink(baseURL + "/policies/" + offer.policyId))
        return object.finish()
    }

    /// The policy.created body: exactly the bytes that are signed.
    static func webhookPayload(_ offer: Offer, baseURL: String) -> String {
        var link = JSONObjectWriter()
        link.string("href", baseURL + "/policies/" + offer.policyId)
        var links = JSONObjectWriter()
        links.raw("self", link.finish())

        var object = JSONObjectWriter()
        object.string("id", offer.policyId)
        object.bool("livemode", offer.livemode)
        object.string("policy_id", offer.insurerPolicyId)
        object.string("product_id", offer.quote.itemId)
        object.string("first_name", offer.customer.firstName)
        object.string("last_name", offer.customer.lastName)
        object.string("email", offer.customer.email)
        object.optionalString("policy_created_date", offer.policyCreatedAt.map(Timestamps.iso8601Offset))
        object.string("start_date", startDate(offer))
        object.string("end_date", endDate(offer))
        object.int("gross_premium", offer.quote.gross)
        object.int("premium_tax", offer.quote.premiumTax)
        object.raw("metadata", offer.metadataJSON)
        object.raw("assets", assets(offer, baseURL: baseURL))
        object.raw("_links", links.finish())
        return object.finish()
    }
}
