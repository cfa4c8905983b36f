// JSON of offers: the 201 answer of POST /policies and the offer object of
// GET /offers/{id}, members in the contract's order. Also the quote
// object both offers and policies embed.

enum OfferObject {
    static func selfLink(_ href: String) -> String {
        var link = JSONObjectWriter()
        link.string("href", href)
        var links = JSONObjectWriter()
        links.raw("_self", link.finish())
        return links.finish()
    }

    /// The 201 of POST /policies; no payment_token member while the offer
    /// awaits approval.
    static func created(_ offer: Offer, baseURL: String) -> String {
        var object = JSONObjectWriter()
        object.string("id", offer.policyId)
        object.string("insurer_policy_id", offer.insurerPolicyId)
        if let token = offer.token {
            object.string("payment_token", token)
        }
        object.raw("_links", selfLink(baseURL + "/policies/" + offer.policyId))
        return object.finish()
    }

    /// GET /offers/{id}.
    static func full(_ offer: Offer, baseURL: String) -> String {
        var object = JSONObjectWriter()
        object.string("id", offer.policyId)
        object.string("version_id", offer.versionId)
        object.string("distributor_id", Catalog.distributorId)
        object.string("insurer_id", Catalog.insurerId)
        object.string("item_id", offer.quote.itemId)
        object.string("integration_id", offer.quote.integrationId)
        object.string("subscription_plan_id", offer.quote.plan.rawValue)
        object.null("touchpoint_id")
        object.null("integration_version_id")
        object.string("insurer_policy_id", offer.insurerPolicyId)
        object.string("first_name", offer.customer.firstName)
        object.string("last_name", offer.customer.lastName)
        object.string("email", offer.customer.email)
        object.string("currency", Catalog.currency)
        object.string("language", offer.customer.language)
        object.string("flow", "default")
        object.string("status", offer.status.rawValue)
        object.raw("quote", quote(offer.quote))
        object.raw("data", offer.dataJSON)
        object.raw("media", "[]")
        object.raw("metadata", offer.metadataJSON)
        object.optionalString("payment_token", offer.token)
        object.optionalString("accepted_at", offer.acceptedAt.map(Timestamps.iso8601Offset))
        object.string("created_at", Timestamps.iso8601Offset(offer.createdAt))
        object.raw("_links", selfLink(baseURL + "/offers/" + offer.policyId))
        return object.finish()
    }

    /// The v3 quote as an offer or policy embeds it.
    static func quote(_ quote: Quote) -> String {
        var object = JSONObjectWriter()
        object.int("version", 3)
        object.string("integration_id", quote.integrationId)
        object.string("item_id", quote.itemId)
        object.string("subscription_plan_id", quote.plan.rawValue)
        object.int("gross_payment_amount", quote.gross)
        object.raw("payment_data", premiums(quote))
        object.raw("customer_input", customerInput(quote))
        return object.finish()
    }

    /// {gross_premium, premium_tax, net_premium, tax_rate}: the quote's
    /// extra_data and the offer's payment_data.
    static func premiums(_ quote: Quote) -> String {
        var object = JSONObjectWriter()
        object.int("gross_premium", quote.gross)
        object.int("premium_tax", quote.premiumTax)
        object.int("net_premium", quote.net)
        object.raw("tax_rate", Quote.taxRateText)
        return object.finish()
    }

    /// The quote's data: only the fields that priced it (and so determine
    /// its token), so that one token always shows one customer_input.
    static func customerInput(_ quote: Quote) -> String {
        var object = JSONObjectWriter()
        object.string("policy_start_date", quote.startDay.text)
        object.int("trip_cost", quote.tripCost)
        return object.finish()
    }

    /// The 200 of POST /quotes.
    static func quoteAnswer(_ quote: Quote) -> String {
        var object = JSONObjectWriter()
        object.string("token", quote.token)
        object.int("gross_payment_amount", quote.gross)
        object.raw("extra_data", premiums(quote))
        return object.finish()
    }
}
