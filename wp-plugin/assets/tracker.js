/* Sales Companion tracker: page and product views, checkout email. No dependencies. */
(function (w, d) {
	'use strict';
	var c = w.salesCompanion;
	if (!c || !navigator.sendBeacon) { return; }
	if (c.consent && typeof w.wp_has_consent === 'function' && !w.wp_has_consent('statistics')) { return; }

	function sid() {
		var m = d.cookie.match(/(?:^|; )sc_sid=([A-Za-z0-9_-]{8,64})/);
		var id = m ? m[1] : (Date.now().toString(36) + Math.random().toString(36).slice(2, 12));
		d.cookie = 'sc_sid=' + id + '; path=/; max-age=1800; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');
		return id;
	}

	function send(body) {
		body.session_id = sid();
		body.token = c.token; // Signed by the page's PHP: the route takes beacons of pages the shop served only.
		navigator.sendBeacon(c.endpoint, new Blob([JSON.stringify(body)], { type: 'text/plain' }));
	}

	var q = new URLSearchParams(location.search), utm = {};
	['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'].forEach(function (k) {
		if (q.get(k)) { utm[k] = q.get(k).slice(0, 200); }
	});
	send({ type: 'page', url: location.href, referrer: d.referrer, utm: utm });
	if (c.product) { send({ type: 'product', product_id: c.product }); } // The product's data is in the token.

	if (!c.email) { return; }
	var sent = '';
	d.addEventListener('change', function (e) {
		var t = e.target;
		if (!t || !t.matches || !t.matches('input[type=email], #billing_email, #email, #edd-email')) { return; }
		var v = (t.value || '').trim();
		if (v !== sent && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) {
			sent = v;
			send({ type: 'email', email: v });
		}
	}, true);
}(window, document));
