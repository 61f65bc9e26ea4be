extension Endpoints {
    func addConfigRoutes(to routes: RouteList) {}
}
