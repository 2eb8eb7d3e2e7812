// Starts GraphiQL on /graphql with every script served by the gateway itself (no CDN), so it
// works offline. Kept out of the page so a Content-Security-Policy needs no inline script.
(function () {
  var fetcher = GraphiQL.createFetcher({ url: "/graphql" });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      inputValueDeprecation: true,
      defaultEditorToolsVisibility: "headers",
    })
  );
})();
