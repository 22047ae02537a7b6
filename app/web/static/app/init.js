// Runs first thing in <body>: tells GOV.UK Frontend's CSS that JavaScript is on and modules
// are supported. An external file, because the content security policy allows no inline script.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
