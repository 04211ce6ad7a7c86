/*
 * Canary upgrades of control planes: runs, their step log, and the locks that make
 * actions on one cluster exclusive across backend replicas.
 *
 * Timestamps are always written from JavaScript Dates (never the database's clock), so
 * that SQLite and PostgreSQL compare them the same way.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('istio_mesh_upgrade_runs', table => {
    table.comment('One canary upgrade of one cluster, from one revision to another');
    table.string('id').primary().notNullable().comment('UUID');
    table.string('cluster').notNullable().comment('Cluster name as under kubernetes:');
    table.string('provider').notNullable().comment('Control-plane provider id (aks, istio, ...)');
    table.string('from_revision').notNullable();
    table.string('to_revision').notNullable();
    table
      .string('status')
      .notNullable()
      .comment('active | completed | rolled-back; the phase is derived from the cluster, never stored');
    table
      .string('active_cluster')
      .nullable()
      .unique({ indexName: 'istio_mesh_upgrade_runs_one_active_per_cluster' })
      .comment('The cluster while the run is active, else NULL: at most one active run per cluster');
    table.string('started_by').notNullable().comment('User entity ref');
    table.timestamp('started_at', { useTz: true }).notNullable();
    table.timestamp('finished_at', { useTz: true }).nullable();
    table.index(['cluster', 'started_at'], 'istio_mesh_upgrade_runs_cluster_idx');
  });

  await knex.schema.createTable('istio_mesh_upgrade_steps', table => {
    table.comment('The step log of upgrade runs: one row per action');
    table.increments('id');
    table
      .string('run_id')
      .notNullable()
      .references('id')
      .inTable('istio_mesh_upgrade_runs')
      .onDelete('CASCADE');
    table.string('action').notNullable().comment('start | adopt | migrate | complete | rollback');
    table.string('namespace').nullable();
    table.string('target_revision').nullable();
    table.string('actor').notNullable().comment('User entity ref of who asked for it');
    table.string('outcome').notNullable().comment('running | succeeded | failed | cancelled');
    table.text('message').nullable();
    table.text('details').nullable().comment('JSON: restart stamp, restarted workloads, platform change');
    table.timestamp('started_at', { useTz: true }).notNullable();
    table.timestamp('finished_at', { useTz: true }).nullable();
    table.timestamp('deadline_at', { useTz: true }).notNullable().comment('A running step past it fails');
    table.string('lease_holder').nullable().comment('The replica driving the running step');
    table.timestamp('lease_expires_at', { useTz: true }).nullable();
    table.index(['run_id'], 'istio_mesh_upgrade_steps_run_idx');
    table.index(['outcome'], 'istio_mesh_upgrade_steps_outcome_idx');
  });

  await knex.schema.createTable('istio_mesh_locks', table => {
    table.comment('Short leases that make conflicting actions exclusive across replicas');
    table.string('lock_key').primary().notNullable().comment('e.g. cluster:aks-dev');
    table.string('holder').notNullable().comment('Unique per acquisition');
    table.string('purpose').notNullable().comment('What holds it, for the 409 message');
    table.timestamp('acquired_at', { useTz: true }).notNullable();
    table.timestamp('expires_at', { useTz: true }).notNullable();
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('istio_mesh_locks');
  await knex.schema.dropTable('istio_mesh_upgrade_steps');
  await knex.schema.dropTable('istio_mesh_upgrade_runs');
};
