"""Every GraphQL document the Shopify connector sends.

Each constant is validated by the tests against the Admin schema of the
default API version (Shopify's own introspection of 2026-10, in the test
fixtures) and checked for deprecated fields. Nested page sizes are literal so the
query cost (see :mod:`connectors.shopify.client`) stays well under Shopify's
single-query limit of 1000 points; the outer ``$first`` is chosen from it.
"""

from __future__ import annotations

MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"
SHOP_MONEY = "shopMoney { amount currencyCode }"

# Nested page sizes of the orders query; longer lists are read with follow-up queries.
ORDER_LINE_ITEMS = 8
ORDER_SHIPPING_LINES = 2
ORDER_REFUNDS = 10  # Order.refunds is a plain list: ids only, details come from REFUND_DETAILS
ORDER_TRANSACTIONS = 5
REFUND_LINE_ITEMS = 20
REFUND_SHIPPING_LINES = 3

SHOP = """
query Shop {
  shop { id name myshopifyDomain currencyCode ianaTimezone createdAt }
}
"""

ORDERS_COUNT = """
query OrdersCount($limit: Int) {
  ordersCount(limit: $limit) { count precision }
}
"""

LINE_ITEM_FIELDS = f"""
  id sku quantity title variantTitle isGiftCard
  variant {{ id }}
  product {{ id }}
  originalUnitPriceSet {{ {SHOP_MONEY} }}
  discountAllocations {{ allocatedAmountSet {{ {SHOP_MONEY} }} }}
  taxLines {{ priceSet {{ {SHOP_MONEY} }} }}
"""

SHIPPING_LINE_FIELDS = f"""
  id title code source
  originalPriceSet {{ {SHOP_MONEY} }}
  discountedPriceSet {{ {SHOP_MONEY} }}
  discountAllocations {{ allocatedAmountSet {{ {SHOP_MONEY} }} }}
  taxLines {{ priceSet {{ {SHOP_MONEY} }} }}
"""

TRANSACTION_FIELDS = f"""
  id kind status gateway test createdAt processedAt
  amountSet {{ {MONEY} }}
  fees {{ amount {{ amount currencyCode }} }}
"""

# Where the buyer came from: the visit's UTM parameters, else Shopify's own source and tactic.
VISIT = "source sourceType utmParameters { source medium campaign }"

ORDER_SCALARS = f"""
  id legacyResourceId name createdAt processedAt updatedAt cancelledAt test sourceName taxesIncluded
  currencyCode presentmentCurrencyCode displayFinancialStatus displayFulfillmentStatus discountCodes
  customer {{ id }}
  shippingAddress {{ countryCodeV2 }}
  billingAddress {{ countryCodeV2 }}
  subtotalPriceSet {{ {MONEY} }}
  totalDiscountsSet {{ {MONEY} }}
  totalShippingPriceSet {{ {MONEY} }}
  totalTaxSet {{ {MONEY} }}
  totalPriceSet {{ {MONEY} }}
  originalTotalDutiesSet {{ {MONEY} }}
  customerJourneySummary {{ firstVisit {{ {VISIT} }} lastVisit {{ {VISIT} }} }}
"""

ORDER_FIELDS = f"""
  {ORDER_SCALARS}
  lineItems(first: {ORDER_LINE_ITEMS}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE_ITEM_FIELDS} }} }}
  shippingLines(first: {ORDER_SHIPPING_LINES}) {{
    pageInfo {{ hasNextPage endCursor }} nodes {{ {SHIPPING_LINE_FIELDS} }}
  }}
  refunds(first: {ORDER_REFUNDS}) {{ id }}
  transactions(first: {ORDER_TRANSACTIONS}) {{ {TRANSACTION_FIELDS} }}
"""

ORDERS = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {ORDER_FIELDS} }}
  }}
}}
"""

ORDER = f"""
query Order($id: ID!) {{
  order(id: $id) {{ {ORDER_FIELDS} }}
}}
"""

# Follow-ups for orders whose nested lists did not fit in the first answer.
ORDER_LINE_ITEMS_PAGE = f"""
query OrderLineItems($id: ID!, $first: Int!, $after: String) {{
  node(id: $id) {{
    ... on Order {{
      lineItems(first: $first, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE_ITEM_FIELDS} }} }}
    }}
  }}
}}
"""

ORDER_SHIPPING_LINES_PAGE = f"""
query OrderShippingLines($id: ID!, $first: Int!, $after: String) {{
  node(id: $id) {{
    ... on Order {{
      shippingLines(first: $first, after: $after) {{
        pageInfo {{ hasNextPage endCursor }} nodes {{ {SHIPPING_LINE_FIELDS} }}
      }}
    }}
  }}
}}
"""

ORDER_REFUNDS_AND_TRANSACTIONS = f"""
query OrderRefundsAndTransactions($id: ID!) {{
  node(id: $id) {{
    ... on Order {{
      refunds(first: 250) {{ id }}
      transactions(first: 100) {{ {TRANSACTION_FIELDS} }}
    }}
  }}
}}
"""

REFUND_LINE_FIELDS = f"""
  quantity restockType
  lineItem {{ id }}
  subtotalSet {{ {SHOP_MONEY} }}
  totalTaxSet {{ {SHOP_MONEY} }}
"""

REFUND_SHIPPING_FIELDS = f"""
  subtotalAmountSet {{ {SHOP_MONEY} }}
  taxAmountSet {{ {SHOP_MONEY} }}
"""

REFUND_DETAILS = f"""
query RefundDetails($ids: [ID!]!) {{
  nodes(ids: $ids) {{
    ... on Refund {{
      id createdAt updatedAt note
      order {{ id }}
      totalRefundedSet {{ {MONEY} }}
      refundLineItems(first: {REFUND_LINE_ITEMS}) {{
        pageInfo {{ hasNextPage endCursor }} nodes {{ {REFUND_LINE_FIELDS} }}
      }}
      refundShippingLines(first: {REFUND_SHIPPING_LINES}) {{
        pageInfo {{ hasNextPage endCursor }} nodes {{ {REFUND_SHIPPING_FIELDS} }}
      }}
    }}
  }}
}}
"""

REFUND_LINE_ITEMS_PAGE = f"""
query RefundLineItems($id: ID!, $first: Int!, $after: String) {{
  node(id: $id) {{
    ... on Refund {{
      refundLineItems(first: $first, after: $after) {{
        pageInfo {{ hasNextPage endCursor }} nodes {{ {REFUND_LINE_FIELDS} }}
      }}
    }}
  }}
}}
"""

REFUND_SHIPPING_LINES_PAGE = f"""
query RefundShippingLines($id: ID!, $first: Int!, $after: String) {{
  node(id: $id) {{
    ... on Refund {{
      refundShippingLines(first: $first, after: $after) {{
        pageInfo {{ hasNextPage endCursor }} nodes {{ {REFUND_SHIPPING_FIELDS} }}
      }}
    }}
  }}
}}
"""

CUSTOMERS = """
query Customers($first: Int!, $after: String, $query: String) {
  customers(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id createdAt updatedAt tags firstName lastName
      defaultEmailAddress { emailAddress marketingState }
      defaultPhoneNumber { phoneNumber }
      defaultAddress { countryCodeV2 }
    }
  }
}
"""

PRODUCT_FIELDS = "id title productType vendor status createdAt updatedAt"

PRODUCTS = f"""
query Products($first: Int!, $after: String, $query: String) {{
  products(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {PRODUCT_FIELDS} }}
  }}
}}
"""

VARIANT_FIELDS = """
  id sku title price updatedAt
  product { id }
  inventoryItem { id unitCost { amount currencyCode } }
"""

# ProductVariantSortKeys has no UPDATED_AT: the stream's cursor moves only at its end.
VARIANTS = f"""
query Variants($first: Int!, $after: String, $query: String) {{
  productVariants(first: $first, after: $after, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {VARIANT_FIELDS} }}
  }}
}}
"""

PRODUCT = f"""
query Product($id: ID!) {{
  product(id: $id) {{
    {PRODUCT_FIELDS}
    variants(first: 100) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {VARIANT_FIELDS} }} }}
  }}
}}
"""

PRODUCT_VARIANTS_PAGE = f"""
query ProductVariants($id: ID!, $first: Int!, $after: String) {{
  product(id: $id) {{
    variants(first: $first, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {VARIANT_FIELDS} }} }}
  }}
}}
"""

LOCATIONS = """
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after, includeInactive: true, includeLegacy: true) {
    pageInfo { hasNextPage endCursor }
    nodes { id name address { countryCode } }
  }
}
"""

# An inventory item belongs to one variant; the API lists it as a connection (``variants``).
INVENTORY_LEVELS = """
query InventoryLevels($location: ID!, $first: Int!, $after: String, $query: String) {
  location(id: $location) {
    id
    inventoryLevels(first: $first, after: $after, query: $query) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id updatedAt
        item { id variants(first: 1) { nodes { id } } }
        quantities(names: ["available"]) { name quantity updatedAt }
      }
    }
  }
}
"""

INVENTORY_ITEM_VARIANT = """
query InventoryItemVariant($id: ID!) {
  inventoryItem(id: $id) { id variants(first: 1) { nodes { id } } }
}
"""

# -- bulk operations --------------------------------------------------------

# The query a bulk operation runs over every order. Nested connections come
# back as JSONL lines of their own carrying ``__parentId``; plain lists stay
# inline. Bulk queries allow no connection inside a list, so refund lines are
# read afterwards with REFUND_DETAILS.
BULK_ORDERS = f"""
{{
  orders(sortKey: UPDATED_AT) {{
    edges {{
      node {{
        {ORDER_SCALARS}
        lineItems {{ edges {{ node {{ {LINE_ITEM_FIELDS} }} }} }}
        shippingLines {{ edges {{ node {{ {SHIPPING_LINE_FIELDS} }} }} }}
        refunds {{ id }}
        transactions {{ {TRANSACTION_FIELDS} }}
      }}
    }}
  }}
}}
"""

BULK_RUN = """
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
"""

# The app's latest bulk queries, newest first (Shopify's default order).
RECENT_BULK_OPERATIONS = """
query RecentBulkOperations {
  bulkOperations(first: 5, query: "operation_type:query") {
    nodes { id status errorCode objectCount url partialDataUrl query }
  }
}
"""

BULK_OPERATION = """
query BulkOperation($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount url partialDataUrl }
  }
}
"""

# Every document above by name, for the schema tests.
ALL = {
    name: value
    for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, str) and value.lstrip().startswith(("query", "mutation", "{"))
}
