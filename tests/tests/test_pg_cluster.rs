//! The private PostgreSQL clusters the fault tests crash and reconfigure: settings reach
//! the server, an immediate restart kills every connection, and the server comes back
//! on the same socket with the same settings.

use diesel::prelude::*;
use diesel::sql_types::Text;
use typed_id_tests::pg::{ClusterConfig, PrivateCluster};

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn show(conn: &mut PgConnection, name: &str) -> QueryResult<String> {
    diesel::sql_query(format!("SELECT current_setting('{name}') AS value"))
        .get_result::<Setting>(conn)
        .map(|s| s.value)
}

#[test]
fn a_private_cluster_keeps_its_settings_across_an_immediate_restart() {
    let cluster =
        PrivateCluster::start(ClusterConfig::new().setting("statement_timeout", "1234ms"));
    let db = cluster.create_database();
    let url = cluster.socket_url(&db);
    let mut conn = PgConnection::establish(&url).unwrap();
    assert_eq!(show(&mut conn, "statement_timeout").unwrap(), "1234ms");
    assert_eq!(show(&mut conn, "synchronous_commit").unwrap(), "off");

    cluster.restart_immediate();
    // The old connection's backend is gone: its next statement fails.
    assert!(show(&mut conn, "statement_timeout").is_err());
    let mut again = PgConnection::establish(&url).unwrap();
    assert_eq!(show(&mut again, "statement_timeout").unwrap(), "1234ms");
    assert!(cluster.log().contains("database system is ready"));
}
